"""Crisis Response Outcomes: the public dashboard.

Run `uv run streamlit run dashboard.py`. With no public file at the default path it first
builds one from demo data (a few seconds, with progress shown); `OUTCOMES_DB` points it at a
real file, which it then only ever opens read-only.
"""

from __future__ import annotations

import fcntl
import os
from urllib.parse import urlsplit

import streamlit as st

from outcomes import queries, settings, ui
from outcomes.i18n import t

DEMO_CALLS = 200_000
DEMO_SEED = 7

# the icon is served by this server: a ":material/...:" page icon is drawn from a font host
# elsewhere, which every visitor's browser would then contact
st.set_page_config(page_title="Crisis Response Outcomes · Los Angeles",
                   page_icon=str(settings.PROJECT_ROOT / "outcomes" / "static" / "icon.png"),
                   layout="wide")
# A fresh server runs its first script through Streamlit's pages-folder mode; widgets drawn
# there get other ids than in st.navigation's mode, so the visitor's first choice would be
# lost (and the language control come back empty). Switch first and start again.
ui.use_navigation_mode()
ui.page_style()


def build_demo_public_file() -> None:
    """Write demo exports and run the real pipeline on them, once, even with many visitors."""
    from etl.demo import write_demo
    from etl.pipeline import run

    demo = settings.PROJECT_ROOT / "data" / "demo"
    demo.mkdir(parents=True, exist_ok=True)
    with open(demo / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second session waits, then finds the file built
        if settings.public_db().exists():
            return
        with st.status(t("startup.building"), expanded=True) as status:
            st.write(t("startup.step_demo", calls=f"{DEMO_CALLS:,}"))
            write_demo(demo, calls=DEMO_CALLS, seed=DEMO_SEED)
            st.write(t("startup.step_pipeline"))
            run(demo / "sources.toml", db=settings.public_db(),
                warehouse_path=demo / "warehouse.duckdb", progress=False)
            status.update(label=t("startup.done"), state="complete", expanded=False)


def public_file_problem() -> str | None:
    path = settings.public_db()
    if not path.exists():
        if os.environ.get("OUTCOMES_DB"):
            return t("startup.missing", path=str(path))
        try:
            build_demo_public_file()
        except Exception as exc:  # shown as a page, never as a traceback
            return t("startup.demo_failed", error=type(exc).__name__)
    try:
        ui.query("latest_run")
    except queries.PublicFileError as exc:
        return str(exc)
    except Exception as exc:
        return t("startup.unreadable", path=str(path), error=type(exc).__name__)
    return None


problem = public_file_problem()
if problem:
    st.title("Crisis Response Outcomes")
    st.error(problem)
    st.stop()

v = ui.filters()
# url paths are the page files' names: a fresh server's first request to a deep link is
# routed by file name (see outcomes.ui.view), and must find the same page
PAGES = (("overview", "nav.overview"), ("map", "nav.map"), ("response_times", "nav.response_times"),
         ("outcomes", "nav.outcomes"), ("trends", "nav.trends"),
         ("police_baseline", "nav.police_baseline"), ("district_brief", "nav.district_brief"),
         ("data_methods", "nav.data_methods"))
pages = [st.Page(f"pages/{path}.py", title=t(key, v.lang), url_path=path) for path, key in PAGES]


def home() -> None:
    """The address "/" opens the overview at its own address (/overview), so that the link
    a visitor copies for the first page works like every other page's."""
    path = urlsplit(st.context.url or "").path.strip("/")
    if path and path != "home":  # an address that is no page: Streamlit sent it here
        st.session_state["_not_found"] = path
    st.switch_page(pages[0], query_params=v.to_params())


# the default page of st.navigation is served at "/" only; the overview has its own path
page = st.navigation([st.Page(home, title=t("nav.overview", v.lang), url_path="home",
                              default=True, visibility="hidden"), *pages], position="hidden")
ui.sync_url(v)
with st.sidebar:
    # links of our own, not Streamlit's menu: each carries the view (district, period,
    # language) in its address, so a page opened in a new tab shows the same view
    for p in pages:
        st.page_link(p, label=p.title, query_params=v.to_params())
    st.caption(t("sidebar.about", v.lang))
ui.page_language(page.title)
ui.banner()
if page.url_path == "overview" and "_not_found" in st.session_state:
    # in the visitor's language, in place of Streamlit's English dialog (ui.page_language)
    st.warning(t("nav.not_found", v.lang, path="/" + st.session_state.pop("_not_found")))
page.run()
ui.sync_url(ui.view())
