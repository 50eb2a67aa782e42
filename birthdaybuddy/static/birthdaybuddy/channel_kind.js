// Channel form (add): only the chosen kind's fields are shown.
document.addEventListener("DOMContentLoaded", () => {
  const kind = document.getElementById("id_kind");
  const sections = document.querySelectorAll("fieldset.bb-kind-fields");
  if (!kind || !sections.length) return;
  const show = () => {
    sections.forEach((section) => {
      section.hidden = !kind.value || !section.classList.contains(`bb-kind-${kind.value}`);
      // Kinds share fields (webhook_url, the Twilio ones): a hidden section's inputs must not be sent.
      section.disabled = section.hidden;
    });
  };
  kind.addEventListener("change", show);
  show();
});
