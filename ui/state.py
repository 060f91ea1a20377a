"""Session state and the URL: settings in, settings out. Every control's value lives in its widget's
session-state key; a share link is parsed once per session."""

from __future__ import annotations

import secrets

import streamlit as st

from gdcore.dashboard.settings import DEFAULTS, HYPER_KEYS, KEYS, Settings, parse_query


def apply_settings(settings: Settings) -> None:
    """Show these settings in the controls (their widget state)."""
    for key in KEYS:
        value = getattr(settings, key)
        st.session_state[key] = list(value) if key == "optimizers" else value
    changed = dict(settings.hyper)
    for key, spec in HYPER_KEYS.items():
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


def current_settings() -> Settings:
    values = {key: st.session_state[key] for key in KEYS}
    values["optimizers"] = tuple(values["optimizers"])
    hyper = tuple(
        (key, float(st.session_state[key]))
        for key, spec in HYPER_KEYS.items()
        if st.session_state[key] != spec.default
    )
    return Settings(**values, hyper=hyper)
