"""The release archive on Data & methods: every release the public file lists, each kept
one's files to download (the Parquet tables as a zip, catalog.json, MANIFEST.json with the
checksum of every file), and what the newest release revised (tables releases, revisions;
etl/archive.py)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from outcomes import settings, ui
from outcomes.i18n import label

# a release's name: its start time and run id (etl.swap.release_folder); nothing else is a
# folder the page will read
NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$")


def folder_of(name: str, listed: set[str]) -> Path | None:
    """The release's folder beside the public file, if the public file lists it, its name
    is a release's and the folder is there."""
    if name not in listed or not NAME.fullmatch(name):
        return None
    folder = settings.public_db().resolve().parent / "releases" / name
    return folder if folder.is_dir() else None


def zipped(folder: Path) -> bytes:
    """Every file of a release folder (the Parquet tables, catalog.json, MANIFEST.json)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # Parquet is compressed already
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{folder.name}/{p.relative_to(folder)}")
    return buf.getvalue()


def _figure(measure: str, value) -> str:
    if pd.isna(value):
        return ui.tr("value.mark_hidden")
    return f"{value * 100:.1f}%" if measure != "median_minutes" else f"{value:.1f} min"


def revisions_frame(rev: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Revisions in words: what, where, when, from and to, and by how many calls."""
    names = {"coverage_rate": "metric.coverage_rate.label",
             "workload_share": "metric.workload_share.label",
             "median_minutes": "metric.dispatch_to_scene_median.label"}
    return pd.DataFrame({
        ui.tr("dm.rev.measure"): [ui.tr(names.get(m, m)) for m in rev["measure"]],
        ui.tr("dm.rev.period"): [ui.period_label(p, lang) for p in rev["period"]],
        ui.tr("dm.rev.place"): [ui.district_label(d, lang) for d in rev["district"]],
        ui.tr("dm.rev.call_types"): [label("group", g, lang) for g in rev["call_type_group"]],
        ui.tr("dm.rev.before"): [_figure(m, x) for m, x in zip(rev["measure"], rev["previous_value"])],
        ui.tr("dm.rev.now"): [_figure(m, x) for m, x in zip(rev["measure"], rev["value"])],
        ui.tr("dm.rev.calls_change"): [
            (f"{int(c):+,}" if pd.notna(c) else
             ui.tr("value.mark_hidden") if f == "hidden" else "–")
            for c, f in zip(rev["denominator_change"], rev["denominator_change_flag"])],
        ui.tr("dm.rev.kind"): [ui.tr(f"dm.revision.{k}") for k in rev["revision"]],
    })


def section() -> None:
    st.header(ui.tr("dm.releases"))
    st.markdown(ui.tr("dm.releases_note"))
    releases = ui.query("releases")
    if not len(releases):
        st.info(ui.tr("dm.releases_none"))
        return
    shown = releases.sort_values("released_at", ascending=False)
    st.dataframe(pd.DataFrame({
        ui.tr("dm.rel.release"): shown["release"],
        ui.tr("dm.rel.released"): shown["released_at"].str.replace("T", " ").str.replace("Z", " UTC"),
        ui.tr("dm.rel.data_through"): shown["data_through"],
        ui.tr("dm.rel.method"): shown["method_version"],
        ui.tr("dm.rel.checksum"): shown["content_sha256"].str[:16] + "…",
        ui.tr("dm.rel.files"): [ui.tr("column.yes" if k else "dm.rel.pruned") for k in shown["files_kept"]],
    }), hide_index=True)
    listed = set(releases["release"])
    kept = [r for r in shown["release"] if folder_of(r, listed)]
    if kept:
        pick = st.selectbox(ui.tr("dm.release_pick"), kept, key="release_pick")
        folder = folder_of(pick, listed)
        if folder is not None:
            row = st.container(horizontal=True)
            row.download_button(ui.tr("dm.release_zip"), key="release_zip", on_click="ignore",
                                mime="application/zip", file_name=f"{pick}.zip",
                                data=lambda f=folder: zipped(f))
            for name, mime in (("catalog.json", "application/json"), ("MANIFEST.json", "application/json")):
                path = folder / name
                if path.is_file():
                    row.download_button(name, key=f"release_{name}", on_click="ignore", mime=mime,
                                        file_name=f"{pick}-{name}", data=lambda p=path: p.read_bytes())
    st.subheader(ui.tr("dm.revisions"))
    st.caption(ui.tr("dm.revisions_note"))
    rev = ui.query("revisions")
    if len(rev):
        st.markdown(ui.tr("dm.revisions_count", n=f"{len(rev):,}", previous=rev["previous_release"].iloc[0]))
        st.dataframe(revisions_frame(rev, ui.lang()), hide_index=True)
    else:
        st.caption(ui.tr("dm.revisions_none"))
