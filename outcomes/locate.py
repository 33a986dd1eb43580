"""Find my district: the browser's location placed in the council districts, in the browser.

The visitor asks (a button); the browser asks them for permission; the point is tested
against the districts' display polygons in the page's own JavaScript. Only the district's
number comes back to the server, never the location. The display polygons are simplified
by about 20 m (etl/districts.display_features), so a point that close to a boundary is
said to be near it, with the district across, and the visitor is pointed to the map.
"""

from __future__ import annotations

import streamlit as st

from outcomes.i18n import t

NEAR_M = 60  # a point this close to another district's edge is "near" it

_HTML = '<div class="locate"><button type="button"></button><p class="status" role="status" aria-live="polite"></p></div>'

_CSS = """
.locate { font-family: var(--st-font); color: var(--st-text-color); }
button { font: inherit; padding: .4rem .8rem; border-radius: var(--st-button-radius, .5rem);
  border: 1px solid #146b66; background: #fff; color: #0f4f4b; cursor: pointer; }
button:hover { background: #eef6f5; }
button:focus-visible { outline: 3px solid #146b66; outline-offset: 2px; }
.status { margin: .4rem 0 0; font-size: .9rem; color: #333; min-height: 1.2em; }
"""

# Ray casting over each ring (holes included: a point inside an odd number of rings is
# inside); distances in metres on a local flat projection, which is exact enough at a city's
# scale. Written here because it must run in the visitor's browser, not on the server.
_JS = """
function inRings(rings, x, y) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
function polygons(g) { return g.type === 'Polygon' ? [g.coordinates] : g.coordinates; }
function edgeMetres(g, x, y) {
  const kx = 111320 * Math.cos(y * Math.PI / 180), ky = 110540;
  let best = Infinity;
  for (const poly of polygons(g)) for (const ring of poly) for (let i = 1; i < ring.length; i++) {
    const ax = (ring[i - 1][0] - x) * kx, ay = (ring[i - 1][1] - y) * ky;
    const bx = (ring[i][0] - x) * kx, by = (ring[i][1] - y) * ky;
    const dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
    const s = len ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
    best = Math.min(best, Math.hypot(ax + s * dx, ay + s * dy));
  }
  return best;
}
export function locate(shapes, x, y, nearMetres) {
  let district = null;
  for (const [d, g] of Object.entries(shapes)) {
    if (polygons(g).some((rings) => inRings(rings, x, y))) { district = d; break; }
  }
  const near = Object.entries(shapes)
    .filter(([d, g]) => d !== district && edgeMetres(g, x, y) <= nearMetres).map(([d]) => d);
  return { district, near };
}
export default function ({ parentElement, data, setTriggerValue }) {
  const button = parentElement.querySelector('button');
  const status = parentElement.querySelector('.status');
  const m = data.messages;
  button.textContent = m.button;
  button.onclick = () => {
    if (!navigator.geolocation) { status.textContent = m.unsupported; return; }
    status.textContent = m.locating;
    navigator.geolocation.getCurrentPosition((pos) => {
      const hit = locate(data.shapes, pos.coords.longitude, pos.coords.latitude, data.near_m);
      if (!hit.district) { status.textContent = hit.near.length ? m.outside_near.replace('{n}', hit.near.join(', ')) : m.outside; return; }
      status.textContent = '';
      setTriggerValue('found', { district: hit.district, near: hit.near });
    }, (err) => {
      status.textContent = err.code === 1 ? m.denied : m.failed;
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
  };
}
"""

_COMPONENT = None


def _component():
    global _COMPONENT
    if _COMPONENT is None:  # registered once per process, on first use
        _COMPONENT = st.components.v2.component("find_my_district", html=_HTML, css=_CSS, js=_JS)
    return _COMPONENT


def _found() -> None:
    hit = (st.session_state.get("find_my_district") or {}).get("found") or {}
    district = hit.get("district")
    if district:
        st.session_state["f_district"] = str(district)
        st.session_state["_located_near"] = [str(d) for d in hit.get("near") or []]


def find_my_district(shapes: dict[str, dict], lang: str) -> None:
    """The button, and after a find a line on how sure it is (near a boundary or not)."""
    keys = ("button", "locating", "unsupported", "denied", "failed", "outside", "outside_near")
    data = {"shapes": shapes, "near_m": NEAR_M,
            "messages": {k: t(f"locate.{k}", lang) for k in keys}}
    _component()(data=data, key="find_my_district", on_found_change=_found)
    near = st.session_state.pop("_located_near", None)
    if near is not None:
        district = st.session_state.get("f_district")
        st.caption(t("locate.found_near", lang, n=district, near=", ".join(near)) if near
                   else t("locate.found", lang, n=district))
