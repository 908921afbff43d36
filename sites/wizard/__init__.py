"""The step-by-step site wizard (``/o/<org>/sites/new/``).

- ``steps``: the steps, the questions each asks (from ``sites.site_fields``), the way between
  them and where each error shows;
- ``answers``: every answer posted so far, validated as a whole and carried between steps;
- ``preview``: the rules the answers derive, live while answering and on the review;
- ``review``: the review page's summary of the answers;
- ``page``: what one step's page shows (questions with their error slots, the stepper).

The view (``sites.views.wizard``) only reads the post, picks the page and renders it.
"""
