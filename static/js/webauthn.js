// Security keys and passkeys (WebAuthn). A form marked data-webauthn="register" or "authenticate"
// carries the server's options (JSON, binary values in base64url) in data-webauthn-options. On
// submit the browser's ceremony runs (navigator.credentials.create or get); its answer, as JSON
// with base64url values, fills the form's hidden field and the form is posted as usual, so the
// server answers with a page (422 with the field named when refused). Loaded by the MFA pages only.

const fromBase64url = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
};

const toBase64url = (buffer) => {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const withBinaryIds = (descriptors) =>
  (descriptors || []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));

function creationOptions(options) {
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: withBinaryIds(options.excludeCredentials),
  };
}

function requestOptions(options) {
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: withBinaryIds(options.allowCredentials),
  };
}

function credentialJson(credential) {
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toBase64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = toBase64url(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = toBase64url(response.authenticatorData);
    json.response.signature = toBase64url(response.signature);
    if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
  }
  return JSON.stringify(json);
}

const MESSAGES = {
  NotAllowedError: "Cancelled, or the key did not answer in time. Try again.",
  InvalidStateError: "This security key or passkey is already registered.",
  SecurityError: "This browser refused the portal's address for security keys (PORTAL_URL).",
};

function showError(form, message) {
  const box = form.querySelector("[data-webauthn-error]");
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
}

async function runCeremony(form) {
  const options = JSON.parse(form.dataset.webauthnOptions);
  const registering = form.dataset.webauthn === "register";
  const credential = registering
    ? await navigator.credentials.create({ publicKey: creationOptions(options) })
    : await navigator.credentials.get({ publicKey: requestOptions(options) });
  const field = form.querySelector(registering ? "[name=credential]" : "[name=assertion]");
  field.value = credentialJson(credential);
  form.submit();
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-webauthn]");
  if (!form) return;
  event.preventDefault();
  if (!window.PublicKeyCredential || !navigator.credentials) {
    showError(form, "This browser cannot use security keys or passkeys. Use another way.");
    return;
  }
  const name = form.querySelector("[name=name]");
  if (name && !name.value.trim()) {
    showError(form, "Name: give the key a name first.");
    name.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  runCeremony(form).catch((error) => {
    if (button) button.disabled = false;
    showError(form, MESSAGES[error.name] || `The security key did not answer (${error.name}).`);
  });
});
