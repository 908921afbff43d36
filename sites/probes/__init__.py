"""Probes: proof, taken on the receiving side, that a firewall path is open (docs/probe-protocol.md).

- ``tokens``: the signed per-run token the portal issues, and the receipt the responder signs;
- ``protocol``: the ``OBM-PROBE 1 <token>`` line protocol, parsing and formatting only;
- ``responder``: the asyncio service that answers outbound probes and records what it saw;
- ``inbound``, ``listener``, ``addresses``, ``clients``: the inbound checks from a worker to a
  site, a listen-mode answerer for tests, the address-safety rules, the customer's client snippets.

Nothing here imports Django: the portal's services and commands call these modules, and hand the
responder its key and a sink that stores observations.
"""
