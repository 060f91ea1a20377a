"""Guided experiments on the page: the menu at the top of the sidebar, the experiment a link opens, the panel
above the results, and the overlay of the blog's own code.

The menu's widget key and the URL key are both `experiment` (a short slug): `?experiment=cliff` opens an
experiment with its first variant's settings; a share link made inside an experiment carries its settings
and the slug, and opens as it was. Each experiment is computed once per server (cached by slug) from the
page's own cached runs, so the variants' buttons find their runs ready.
"""

from __future__ import annotations

import streamlit as st

from gdcore.dashboard import blogcode, guided
from gdcore.dashboard.settings import Settings, to_query
from gdcore.reference import BLOG_CODE_NAME
from ui import cache
from ui.state import apply_settings

EXPERIMENT_KEY = "experiment"  # the menu's widget key and the share link's query key
NO_EXPERIMENT = ""


def prepared_key(settings: Settings) -> tuple:
    """The key of `ui.cache.prepare` for these settings (a built-in data source: no uploaded bytes)."""
    return (guided.data_source(settings), settings.standardize, settings.test_fraction, settings.seed)


class CachedLab:
    """The experiments' `Lab`: the page's own cached data and runs."""

    def prepared(self, settings: Settings):
        return cache.prepare(*prepared_key(settings))

    def runs(self, settings: Settings):
        return cache.run(prepared_key(settings), settings.run_plan())


@st.cache_resource(max_entries=16, show_spinner=False)
def guide(slug: str) -> guided.Guide:
    return guided.open_guide(slug, CachedLab())


@st.cache_resource(max_entries=16, show_spinner=False)
def blog_overlay(key: tuple, spec, _csv_bytes: bytes | None = None):
    """The blog's code run as published on the page's data (its loop is O(epochs) in Python: cached)."""
    return blogcode.blog_overlay(cache.prepare(*key, _csv_bytes), spec)


def load_variant(slug: str, index: int) -> None:
    """Button / menu callback: show this experiment's variant in every control."""
    apply_settings(guide(slug).variants[index].settings)


def load_chosen() -> None:
    slug = st.session_state[EXPERIMENT_KEY]
    if slug != NO_EXPERIMENT:
        load_variant(slug, 0)


def open_linked_experiment() -> None:
    """Once per session, after the link's settings are read: `?experiment=<slug>` selects the experiment;
    a link with no other setting loads the experiment's first variant. An unknown slug is a notice."""
    if "experiment_link_read" in st.session_state:
        return
    st.session_state["experiment_link_read"] = True
    st.session_state.setdefault(EXPERIMENT_KEY, NO_EXPERIMENT)
    params = st.query_params.to_dict()
    if EXPERIMENT_KEY not in params:
        return
    slug = str(params[EXPERIMENT_KEY]).strip()
    if slug not in guided.EXPERIMENTS:
        shown = repr(slug if len(slug) <= 40 else slug[:40] + "…")
        st.session_state.setdefault("url_notices", []).append(
            f"Link ignored a value: experiment must be one of {', '.join(guided.EXPERIMENTS)}; got {shown}."
        )
        return
    st.session_state[EXPERIMENT_KEY] = slug
    if set(params) == {EXPERIMENT_KEY}:
        load_variant(slug, 0)


def share_query(settings: Settings) -> dict[str, str]:
    """The share link's query: the settings, and the experiment while they are one of its variants."""
    query = to_query(settings)
    slug = st.session_state.get(EXPERIMENT_KEY, NO_EXPERIMENT)
    if slug != NO_EXPERIMENT and guide(slug).variant_index(settings) is not None:
        query[EXPERIMENT_KEY] = slug
    return query


def learning_controls(sb) -> None:
    """The top of the sidebar: the experiments menu and the blog's-code overlay."""
    titles = guided.slug_titles()
    sb.selectbox(
        "🧪 Guided experiments",
        [NO_EXPERIMENT, *titles],
        key=EXPERIMENT_KEY,
        format_func=lambda slug: titles.get(slug, "Choose one: it sets every control"),
        on_change=load_chosen,
        help="Eight short lessons. Each sets every control; its notes appear above the results.",
    )
    sb.toggle(
        "Show the blog's code (buggy)",
        key="blog_code",
        help="Draw the blog's loop exactly as published (its shape bug and its pairing bug) on the loss "
        "and parameter charts, beside the fixed runs.",
    )


def experiment_panel(settings: Settings) -> None:
    """The chosen experiment: question, variants, what to look at, what the runs show, why."""
    slug = st.session_state.get(EXPERIMENT_KEY, NO_EXPERIMENT)
    if slug == NO_EXPERIMENT:
        return
    shown = guide(slug)
    entry = shown.experiment
    current = shown.variant_index(settings)
    with st.container(border=True, key="experiment_panel"):
        st.markdown(f"##### 🧪 Experiment {shown.number} of {len(guided.EXPERIMENTS)}: {entry.title}")
        st.markdown(f"**Question.** {entry.question}")
        if len(shown.variants) > 1 or current is None:
            row = st.container(horizontal=True, key="experiment_variants")
            for k, variant in enumerate(shown.variants):
                row.button(
                    ("▶ " if k == current else "") + variant.label,
                    key=f"experiment_variant_{k}",
                    on_click=load_variant,
                    args=(slug, k),
                    type="primary" if k == current else "secondary",
                    help="On the page now" if k == current else "Load these settings",
                )
        if current is None:
            st.caption(
                "The settings have changed since this experiment was loaded: the notes below are about its "
                "own runs. A button above loads them again."
            )
        st.markdown(f"**Look at.** {entry.look_at}")
        st.markdown("**What the runs show.**\n" + "\n".join(f"- {f.text}" for f in shown.findings))
        st.markdown(f"**Why.** {entry.why}")


def overlay_runs(settings: Settings, key: tuple, csv_bytes: bytes | None) -> dict:
    """{name: run} of the blog's code to draw beside the runs (empty unless asked), with its caption."""
    if not settings.blog_code:
        return {}
    run, note = blog_overlay(key, settings.run_spec(settings.optimizers[0]), csv_bytes)
    st.caption("📜 " + note)
    return {} if run is None else {BLOG_CODE_NAME: run}
