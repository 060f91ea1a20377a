"""Session state and the URL: settings in, settings out. Every control's value lives in its widget's
session-state key; a share link is parsed once per session."""

from __future__ import annotations

import secrets

import streamlit as st

from gdcore.dashboard.settings import (
    DEFAULTS,
    HYPER_KEYS,
    KEYS,
    SCHEDULE_KEYS,
    Settings,
    input_range,
    key_default,
    parse_query,
)


def apply_settings(settings: Settings) -> None:
    """Show these settings in the controls (their widget state)."""
    for key in KEYS:
        value = getattr(settings, key)
        st.session_state[key] = list(value) if key == "optimizers" else value
    changed = dict(settings.hyper) | dict(settings.schedule_params)
    for key, spec in (HYPER_KEYS | SCHEDULE_KEYS).items():
        st.session_state[key] = changed.get(key, spec.default)
    st.session_state["optimizers_chosen"] = list(settings.optimizers)


def keep_an_optimizer() -> None:
    """on_change of the optimizer choice: remember a non-empty choice; an empty one goes back to the last
    choice. Empty arrives when the user removes every chip, and also (with no user action) when another
    widget changes while the multiselect's code is still loading in the browser."""
    if st.session_state["optimizers"]:
        st.session_state["optimizers_chosen"] = list(st.session_state["optimizers"])
    else:
        st.session_state["optimizers"] = list(
            st.session_state.get("optimizers_chosen") or DEFAULTS.optimizers
        )
        st.session_state["optimizer_kept"] = True


def shown_number(value: float) -> str:
    """A number as the range notices and labels write it: 100,000, 0.9999, 1e-16, -100."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def keep_in_range(key: str, label: str) -> None:
    """on_change of a number input: a value outside `input_range(key)` becomes the nearest allowed one,
    written back into the field, so the field and the run agree (the browser would otherwise keep a red
    field showing the typed value while the run used the previous one); a notice says what happened."""
    low, high = input_range(key)
    value = st.session_state[key]
    if value is None:  # an emptied field: the setting's default
        value = key_default(key)
    kept = type(low)(min(max(value, low), high))  # an int setting stays an int
    if kept != value:
        st.session_state.setdefault("range_notices", {})[key] = (
            f"{label}: {shown_number(value)} is outside {shown_number(low)} to {shown_number(high)}, "
            f"so {shown_number(kept)} is used."
        )
    st.session_state[key] = kept


KEPT_UPLOAD = "kept_upload"  # (file name, bytes) of the uploaded CSV, outside the uploader's own state


def keep_upload() -> None:
    """on_change of the CSV uploader: keep the new file, or forget it when the user removed it.

    The uploader's state goes when another source is chosen (the widget is not drawn then); the kept
    copy is what brings the file back when the user returns to "Upload a CSV"."""
    upload = st.session_state.get("upload")
    if upload is None:
        st.session_state.pop(KEPT_UPLOAD, None)
    else:
        st.session_state[KEPT_UPLOAD] = (upload.name, upload.getvalue())


def kept_upload() -> tuple[str, bytes] | None:
    """The uploaded CSV file as (name, bytes), whether or not the uploader shows it right now."""
    upload = st.session_state.get("upload")
    if upload is not None and KEPT_UPLOAD not in st.session_state:  # uploaded before keep_upload ran
        keep_upload()
    return st.session_state.get(KEPT_UPLOAD)


def initialise_state() -> None:
    """Once per session: settings from the URL (junk values fall back to defaults with a notice)."""
    if "initialised" in st.session_state:
        return
    settings, notices = parse_query(st.query_params.to_dict())
    apply_settings(settings)
    st.session_state["url_notices"] = notices
    st.session_state["initialised"] = True


def reset_to_blog() -> None:
    apply_settings(DEFAULTS)


def new_seed() -> None:
    st.session_state["seed"] = secrets.randbelow(1_000_000)


def rerun_page_if_settings_changed(settings: Settings) -> None:
    """In a fragment (its own rerun): when one of its widgets changed a setting of the whole page since
    `settings` (the page's run) was read, such as the sweep's "Set epochs to ..." or a click on the
    landscape that sets the start, rerun the whole page, so nothing above is left drawn for the old
    settings."""
    if current_settings() != settings:
        st.rerun(scope="app")


def current_settings() -> Settings:
    values = {key: st.session_state[key] for key in KEYS}
    values["optimizers"] = tuple(values["optimizers"])
    hyper = tuple(
        (key, float(st.session_state[key]))
        for key, spec in HYPER_KEYS.items()
        if st.session_state[key] != spec.default
    )
    scheduling = tuple(
        (key, st.session_state[key])
        for key, spec in SCHEDULE_KEYS.items()
        if key in st.session_state and st.session_state[key] != spec.default
    )
    return Settings(**values, hyper=hyper, schedule_params=scheduling)
