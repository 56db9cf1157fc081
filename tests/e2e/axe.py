"""Accessibility checks with axe-core (Deque's engine, the field's standard) inside a Playwright page.

axe-core comes from npm at the exact version pinned in tests/e2e/axe-core/package.json (and its
lockfile); scripts/ensure-axe.sh installs it (``make test`` and CI run it). Nothing is fetched from
the internet while the tests run: the script file is injected into the page.

``check(page)`` runs the WCAG 2.1 A and AA rules on what the page shows and returns the violations
grouped by impact (critical, serious, moderate, minor). A few rules fail on elements that Streamlit
itself draws and that the app cannot change: ``STREAMLIT_EXCLUSIONS`` names each of those by rule
AND element (never a rule for the whole page), with the reason; they are counted apart as
"excluded", so a new one shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")

# (axe rule, CSS selector of the Streamlit-drawn element it may fail on, why we cannot fix it)
STREAMLIT_EXCLUSIONS: list[tuple[str, str, str]] = [
    ("list", 'ul[data-testid="stSidebarNavItems"]',
     "Streamlit's side menu puts each menu section (a <div> with its heading) straight inside its <ul>"),
    ("listitem", 'ul[data-testid="stSidebarNavItems"] li',
     "so the menu's links (<li>) sit in that section <div>, not directly in the <ul> (Streamlit's markup)"),
]


@dataclass
class AxeResult:
    by_impact: dict[str, list[dict]] = field(default_factory=lambda: {i: [] for i in IMPACTS})
    excluded: list[dict] = field(default_factory=list)
    rules_passed: int = 0          # rules that found elements to check and passed: 0 means nothing was checked

    def counts(self) -> dict[str, int]:
        """Elements failing a rule, per impact (one element failing two rules counts twice)."""
        return {i: sum(len(v["nodes"]) for v in self.by_impact[i]) for i in IMPACTS}

    def serious(self) -> list[dict]:
        return self.by_impact["critical"] + self.by_impact["serious"]

    def describe(self, violations: list[dict] | None = None) -> str:
        lines = []
        for v in (self.serious() if violations is None else violations):
            lines.append(f"{v['impact']}: {v['id']} ({v['help']}), {len(v['nodes'])} element(s):")
            for n in v["nodes"][:4]:
                lines.append(f"    {' > '.join(map(str, n['target']))}: {n['html'][:160]}")
                if n.get("failureSummary"):
                    lines.append("      " + n["failureSummary"].replace("\n", " ")[:300])
        return "\n".join(lines)


_RUN = """
async ([tags, exclusions]) => {
  // Streamlit fades the elements of a page that is running again (data-stale): a check that saw them
  // would report the fading, not the page, so it says so and is made again
  let stale = !!document.querySelector('[data-stale="true"]');
  const watch = new MutationObserver((changes) => {
    if (changes.some((c) => c.target.getAttribute && c.target.getAttribute('data-stale') === 'true')) stale = true;
  });
  watch.observe(document.body, {attributes: true, attributeFilter: ['data-stale'], subtree: true});
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations'], iframes: true});
  watch.disconnect();
  if (stale || document.querySelector('[data-stale="true"]')) return null;
  const inShadow = (root, sel) => {     // a selector list crossing shadow roots
    let el = null;
    for (const s of (Array.isArray(sel) ? sel : [sel])) {
      el = root.querySelector(s);
      if (!el) return null;
      root = el.shadowRoot || root;
    }
    return el;
  };
  const find = (target) => {              // one selector per frame, outermost first
    let root = document, el = null;
    for (const sel of target) {
      el = root && inShadow(root, sel);
      if (!el) return null;
      root = el.contentDocument;
    }
    return el;
  };
  const kept = [], excluded = [];
  for (const v of result.violations) {
    const rules = exclusions.filter(([rule]) => rule === v.id);
    const keep = [], drop = [];
    for (const n of v.nodes) {
      const el = rules.length ? find(n.target) : null;
      const why = el && rules.find(([, css]) => el.matches(css) || el.closest(css));
      (why ? drop : keep).push({target: n.target, html: n.html, failureSummary: n.failureSummary,
                                excludedBecause: why ? why[2] : undefined});
    }
    const slim = {id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl};
    if (keep.length) kept.push({...slim, nodes: keep});
    if (drop.length) excluded.push({...slim, nodes: drop});
  }
  return [kept, excluded, result.passes.length];
}
"""


def version() -> str:
    import json

    return json.loads((AXE_JS.parent / "package.json").read_text())["version"]


def inject(page) -> None:
    """Put axe into the page and into every frame (Streamlit draws some parts in iframes)."""
    if not AXE_JS.is_file():
        raise AssertionError(f"axe-core is not installed ({AXE_JS} is missing): run bash scripts/ensure-axe.sh")
    for frame in page.frames:
        try:
            if not frame.evaluate("() => typeof window.axe === 'object'"):
                frame.add_script_tag(path=str(AXE_JS))
        except Exception:  # noqa: BLE001 - a frame that went away while we looked: nothing to check there
            pass


def check(page, *, timeout_ms: float = 90_000) -> AxeResult:
    """Run axe's WCAG 2.1 A/AA rules on the page once Streamlit has finished drawing it."""
    inject(page)
    for _ in range(10):
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                               "!document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms)
        out = page.evaluate(_RUN, [WCAG_TAGS, [list(e) for e in STREAMLIT_EXCLUSIONS]])
        if out is not None:
            break
    else:
        raise AssertionError("the page kept running again while it was being checked")
    kept, excluded, passed = out
    result = AxeResult(excluded=excluded, rules_passed=passed)
    for v in kept:
        result.by_impact.setdefault(v["impact"] or "minor", []).append(v)
    return result


# --- states reached in the browser journeys (a dialog, a page after an action) ------------------------------

JOURNEY_ROWS = Path(__file__).resolve().parents[2] / "bench" / "results" / "accessibility-journeys.json"


def assert_accessible(page, page_title: str, role: str, screen: str, state: str) -> AxeResult:
    """Check the page as it is now (after the journey's last step) and fail on any serious or critical
    violation. With KLEROTERION_A11Y_REPORT=1 the counts are kept in bench/results/accessibility-journeys.json
    (one row per page and state), which tests/e2e/test_accessibility.py adds to the report."""
    import json
    import os

    res = check(page)
    if os.environ.get("KLEROTERION_A11Y_REPORT") == "1":
        rows = json.loads(JOURNEY_ROWS.read_text()) if JOURNEY_ROWS.is_file() else {}
        rows[f"{page_title} | {role} | {screen} | {state}"] = {
            **res.counts(), "excluded": sum(len(v["nodes"]) for v in res.excluded)}
        JOURNEY_ROWS.parent.mkdir(parents=True, exist_ok=True)
        JOURNEY_ROWS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    assert res.rules_passed >= 5, f"{page_title} ({state}): axe found almost nothing to check"
    assert not res.serious(), f"{page_title} ({state}, {role}, {screen}):\n{res.describe()}"
    return res
