// The composer's dynamic parts (PLATFORMS §1.11). No inline scripts (strict CSP); everything here
// is an enhancement: without JavaScript every section stays visible, the form still submits, and
// the server applies the same rules (apps/publishing/direct_post.py).

const form = document.getElementById("composer");

const PRIVATE = "SELF_ONLY";

function chosenAccounts() {
  return Array.from(form.querySelectorAll("input[name=accounts]"));
}

// Options of an account are shown only while the account is ticked.
function syncSections() {
  let tiktokChosen = false;
  chosenAccounts().forEach((box) => {
    const section = form.querySelector(`[data-account-section="${box.value}"]`);
    if (section) {
      section.hidden = !box.checked;
    }
    if (box.checked && box.dataset.platform === "tiktok") {
      tiktokChosen = true;
    }
  });
  const declaration = document.querySelector("[data-declaration]");
  if (declaration) {
    declaration.hidden = !tiktokChosen;
  }
  syncDeclaration();
}

function field(section, key) {
  return section.querySelector(`[name$="_${key}"]`);
}

// Commercial content disclosure: the choices appear with the toggle, the label follows them, and
// branded content takes "Only me" away (it can't be private).
function syncTikTok(section) {
  const disclose = field(section, "disclose_commercial");
  if (!disclose) {
    return; // the creator can't post now: no options are offered
  }
  const organic = field(section, "brand_organic");
  const branded = field(section, "brand_content");
  const choices = section.querySelector("[data-disclosure-choices]");
  const label = section.querySelector("[data-disclosure-label]");
  choices.hidden = !disclose.checked;
  let text = "";
  if (disclose.checked && branded.checked) {
    text = "TikTok will label the post “Paid partnership”.";
  } else if (disclose.checked && organic.checked) {
    text = "TikTok will label the post “Promotional content”.";
  } else if (disclose.checked) {
    text = "Tick “Your brand”, “Branded content” or both.";
  }
  if (label.textContent !== text) {
    label.textContent = text;
  }
  const isBranded = disclose.checked && branded.checked;
  const privacy = field(section, "privacy_level");
  const privateOption = privacy && privacy.querySelector(`option[value="${PRIVATE}"]`);
  if (privateOption) {
    privateOption.disabled = isBranded;
    if (isBranded && privacy.value === PRIVATE) {
      privacy.value = "";
    }
  }
  const note = section.querySelector("[data-branded-private-note]");
  if (note) {
    note.hidden = !(isBranded && privateOption);
  }
}

function syncDeclaration() {
  const part = document.querySelector("[data-branded-declaration]");
  if (!part) {
    return;
  }
  let branded = false;
  chosenAccounts().forEach((box) => {
    const section = form.querySelector(`[data-account-section="${box.value}"][data-tiktok-section]`);
    if (box.checked && section) {
      const disclose = field(section, "disclose_commercial");
      const brand = field(section, "brand_content");
      branded = branded || Boolean(disclose && disclose.checked && brand && brand.checked);
    }
  });
  part.hidden = !branded;
}

// The chosen video's preview (player and poster frame); each option says where they are.
function showMedia(option) {
  const figure = document.getElementById("media-preview");
  if (!figure) {
    return;
  }
  const video = figure.querySelector("video");
  if (!option || !option.value) {
    figure.hidden = true;
    video.removeAttribute("src");
    video.removeAttribute("poster");
    return;
  }
  if (option.dataset.videoUrl) {
    video.src = option.dataset.videoUrl;
  } else {
    video.removeAttribute("src");
  }
  if (option.dataset.posterUrl) {
    video.poster = option.dataset.posterUrl;
  } else {
    video.removeAttribute("poster");
  }
  document.getElementById("media-preview-name").textContent = option.textContent;
  figure.hidden = false;
}

function mediaSelect() {
  return form.querySelector("select[name=media]");
}

function onMediaChosen() {
  const select = mediaSelect();
  showMedia(select.selectedOptions[0]);
}

// The upload widget announces a new video; the <select> stays the one value the form sends.
function onUploaded(event) {
  const detail = event.detail || {};
  const select = mediaSelect();
  if (!select || !detail.id) {
    return;
  }
  const value = String(detail.id);
  let option = Array.from(select.options).find((o) => o.value === value);
  if (!option) {
    option = new Option(detail.name || `Video ${value}`, value);
    const figure = document.getElementById("media-preview");
    option.dataset.videoUrl = figure.dataset.videoUrl.replace("/0/", `/${value}/`);
    if (detail.poster_url) {
      option.dataset.posterUrl = detail.poster_url;
    }
    select.add(option, 1);
  }
  select.value = value;
  showMedia(option);
}

if (form) {
  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "accounts") {
      syncSections();
    }
    if (target.name === "media") {
      onMediaChosen();
    }
    const section = target.closest("[data-tiktok-section]");
    if (section) {
      syncTikTok(section);
      syncDeclaration();
    }
  });
  document.addEventListener("media:uploaded", onUploaded);
  // Choosing a file starts an upload, not a live check: the check runs once the upload is done
  // (media:uploaded), and never carries the file itself (hx-params="not file").
  form.querySelectorAll('input[type="file"]').forEach((input) => {
    input.addEventListener("input", (event) => event.stopPropagation());
  });
  form.querySelectorAll("[data-tiktok-section]").forEach(syncTikTok);
  syncSections();
}
