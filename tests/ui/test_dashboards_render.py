"""Every shipped dashboard, rendered by Splunk's Dashboard Studio renderer in headless Chromium.

Each dashboard's definition is taken from default/data/ui/views/*.xml as shipped; only its
search data sources are replaced by `ds.test` sources holding the results that panel_data.py
computes from the real command's output (its docstring says how, source by source). The page is
bundled with esbuild from the npm packages pinned in tests/ui/package.json (test-only, never
shipped), served on 127.0.0.1 and driven by playwright-core with Debian's chromium; every
request to another address is blocked, except the map's base tiles, which are answered in the
browser with a blank tile (a map whose tile requests fail finishes loading late or never, and
draws its bubbles only once loaded).

A dashboard fails when a panel is missing, shows an error or no data ("No search results
returned", "N/A"), when a single value differs from the computed one, a table shows no rows, a
chart no series, no coloured pixels in the screenshot (a chart drawn blank) or no readable axis
labels (a bar or column chart must label every category, and two categories may not be
shortened to the same label), the map no bubble, or when two panels overlap. render.mjs makes
the window as tall as the page before the full-page screenshot: capturing a taller page resizes
the window, and charts caught redrawing for the new size come out blank. Screenshots land in test-output/ui/<dashboard>.png. With
CTDETECT_UPDATE_SCREENSHOTS=1, the last test copies a dashboard's screenshot to
docs/screenshots/ (the README's pictures), and only when every check of that dashboard passed in
this run; when one did not, it fails instead of copying.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

import panel_data

UI_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = UI_DIR.parent.parent
VIEWS_DIR = REPO_ROOT / "default" / "data" / "ui" / "views"
OUTPUT_DIR = REPO_ROOT / "test-output" / "ui"
SCREENSHOTS_DIR = REPO_ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CTDETECT_CHROMIUM", "/usr/bin/chromium")
ERROR_TEXTS = ("No search results returned", "is not defined", "Error in", "Search failed", "Invalid", "Cannot read")
UPDATE_SCREENSHOTS = os.environ.get("CTDETECT_UPDATE_SCREENSHOTS") == "1"
# Share of a chart panel's pixels in colour, in its screenshot, below which it shows no data: a
# chart drawn blank has none; the shipped charts have 3% to 20%.
MIN_CHART_COLOURED_SHARE = 0.005
# The checks that passed in this run: (check, dashboard or None for the whole page set). Each
# check records itself after its last assertion; the screenshot copy needs all of them.
PASSED = set()
CHECKS_PER_DASHBOARD = ("panels", "overlap")
CHECKS_OVERALL = ("rendered", "loopback")


def dashboard_definitions():
    result = {}
    for path in sorted(VIEWS_DIR.glob("*.xml")):
        root = ElementTree.parse(path).getroot()
        if root.get("version") == "2":
            result[path.stem] = json.loads(root.find("definition").text)
    return result


def _ensure_node_modules():
    if (UI_DIR / "node_modules" / "playwright-core").is_dir() and (UI_DIR / "node_modules" / "@splunk" / "dashboard-core").is_dir():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=UI_DIR, check=True, timeout=900)


def _ensure_bundle():
    bundle = OUTPUT_DIR / "bundle"
    sources = [UI_DIR / "render" / "app.jsx", UI_DIR / "render" / "build.mjs", UI_DIR / "package-lock.json"]
    built = bundle / "app.js"
    if built.exists() and built.stat().st_mtime > max(s.stat().st_mtime for s in sources):
        return bundle
    bundle.mkdir(parents=True, exist_ok=True)
    subprocess.run(["node", str(UI_DIR / "render" / "build.mjs"), str(bundle)], cwd=UI_DIR, check=True, timeout=300)
    return bundle


@pytest.fixture(scope="module")
def rendered():
    assert os.path.exists(CHROMIUM), "chromium not found at %s (packaging/install-deps.sh installs it)" % CHROMIUM
    _ensure_node_modules()
    bundle = _ensure_bundle()
    data = panel_data.all_panel_data()
    definitions = dashboard_definitions()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    jobs = []
    for name, definition in definitions.items():
        computed = data.get(name)
        assert computed is not None, "panel_data.py computes no data for the dashboard %s" % name
        for source_id, source in definition["dataSources"].items():
            assert source_id in computed, "%s: no computed data for the data source %s" % (name, source_id)
            definition["dataSources"][source_id] = {"type": "ds.test", "name": source.get("name", source_id),
                                                   "options": {"data": computed[source_id]}}
        path = OUTPUT_DIR / ("%s.json" % name)
        path.write_text(json.dumps(definition), encoding="utf-8")
        jobs.append({"name": name, "definitionPath": str(path)})
    job = {"bundleDir": str(bundle), "outDir": str(OUTPUT_DIR), "dashboards": jobs, "executablePath": CHROMIUM}
    job_path = OUTPUT_DIR / "job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    subprocess.run(["node", str(UI_DIR / "render" / "render.mjs"), str(job_path)], cwd=UI_DIR, check=True, timeout=600)
    report = json.loads((OUTPUT_DIR / "report.json").read_text(encoding="utf-8"))
    return definitions, data, report


def test_every_shipped_dashboard_is_rendered(rendered):
    definitions, _data, report = rendered
    assert sorted(definitions) == sorted(panel_data.DASHBOARDS)
    assert sorted(report["dashboards"]) == sorted(definitions)
    for name in definitions:
        assert (OUTPUT_DIR / ("%s.png" % name)).stat().st_size > 10000
    PASSED.add(("rendered", None))


def test_only_loopback_was_reached(rendered):
    _definitions, _data, report = rendered
    # Blocked requests never left the browser; none are expected. The map's base tiles are
    # answered in the browser with a blank tile, so only the maps' dashboards asked for them.
    assert report["blocked"] == []
    assert all(re.search(r"basemaps|tile", url) for url in report["tiles"])
    PASSED.add(("loopback", None))


def _label_shows(label, category):
    """Whether an axis label is the category, or the category shortened with an ellipsis."""
    if label == category:
        return True
    pieces = re.split(r"\.\.\.|\u2026", label)
    if len(pieces) < 2:
        return False
    head, tail = pieces[0], pieces[-1]
    return category.startswith(head) and category.endswith(tail) and len(head) + len(tail) < len(category)


def axis_label_problems(viz_id, panel, block):
    """A chart must be readable: numbers on its value axis and, for a chart of categories (not of
    time), a label for every category, no two of them shortened to the same text."""
    problems = []
    if not panel["yAxisLabels"]:
        problems.append("%s: no value-axis labels" % viz_id)
    categories = block["columns"][0]
    if block["fields"][0]["name"] == "_time":
        if len(panel["xAxisLabels"]) < 2:
            problems.append("%s: %d time-axis labels" % (viz_id, len(panel["xAxisLabels"])))
        return problems
    labels = panel["xAxisLabels"]
    missing = [c for c in categories if not any(_label_shows(label, c) for label in labels)]
    if missing:
        problems.append("%s: no axis label for %s (labels drawn: %s)" % (viz_id, missing, labels))
    shared = sorted(set(label for label in labels if labels.count(label) > 1))
    if shared:
        problems.append("%s: categories shortened to the same label %s" % (viz_id, shared))
    return problems


@pytest.mark.parametrize("name", sorted(panel_data.DASHBOARDS))
def test_panels_show_their_data(rendered, name):
    definitions, data, report = rendered
    definition, page = definitions[name], report["dashboards"][name]
    assert page["validationErrors"] == []
    assert page["consoleErrors"] == []
    panels = {panel["id"]: panel for panel in page["panels"]}
    problems = []
    for item in definition["layout"]["structure"]:
        viz_id = item["item"]
        viz = definition["visualizations"][viz_id]
        panel = panels.get(viz_id)
        if panel is None:
            problems.append("%s: not rendered" % viz_id)
            continue
        text = panel["text"]
        for error in ERROR_TEXTS:
            if error in text:
                problems.append("%s shows %r" % (viz_id, error))
        if viz.get("title") and viz["title"] not in text:
            problems.append("%s: title missing" % viz_id)
        block = data[name][viz["dataSources"]["primary"]]
        kind = viz["type"]
        if kind == "splunk.singlevalue":
            expected = block["columns"][0][0]
            shown = re.sub(r"[,\s]", "", text.replace(viz["title"], ""))
            if "N/A" in text or expected not in shown:
                problems.append("%s: single value shows %r, expected %s" % (viz_id, text, expected))
            if expected == "0":
                problems.append("%s: the computed value is 0, the panel shows nothing of interest" % viz_id)
        elif kind == "splunk.table":
            rows = len(block["columns"][0])
            if rows == 0 or panel["tableRows"] < min(rows, viz.get("options", {}).get("count", 10)):
                problems.append("%s: table shows %d rows of %d" % (viz_id, panel["tableRows"], rows))
            first_cell = block["columns"][0][0]
            first_cell = first_cell[0] if isinstance(first_cell, list) else first_cell
            if first_cell not in text:
                problems.append("%s: first cell %r not shown" % (viz_id, first_cell))
        elif kind in ("splunk.column", "splunk.bar", "splunk.line"):
            match = re.search(r"chart with (\d+) (?:data )?(bars|lines|series|data points)", text)
            if not panel["hasChart"] or not match or int(match.group(1)) == 0 or panel["chartSeriesPoints"] == 0:
                problems.append("%s: no chart drawn (%r)" % (viz_id, text[:120]))
            else:
                problems.extend(axis_label_problems(viz_id, panel, block))
            # The picture itself: a chart whose points are in the page can still be drawn blank
            # (a redraw caught mid-way); its bars or columns are the panel's coloured pixels.
            if panel["colouredShare"] < MIN_CHART_COLOURED_SHARE:
                problems.append("%s: the screenshot shows no data (%.2f%% coloured pixels)" % (viz_id, 100 * panel["colouredShare"]))
        elif kind == "splunk.map":
            if panel["svgElements"] < len(block["columns"][0]):
                problems.append("%s: %d bubbles drawn for %d locations" % (viz_id, panel["svgElements"], len(block["columns"][0])))
        else:
            problems.append("%s: no check for the visualization type %s" % (viz_id, kind))
    assert problems == []
    PASSED.add(("panels", name))


@pytest.mark.parametrize("name", sorted(panel_data.DASHBOARDS))
def test_panels_do_not_overlap(rendered, name):
    _definitions, _data, report = rendered
    panels = report["dashboards"][name]["panels"]
    overlaps = []
    for index, a in enumerate(panels):
        box_a = a["box"]
        if box_a["width"] < 50 or box_a["height"] < 50:
            overlaps.append("%s is %dx%d" % (a["id"], box_a["width"], box_a["height"]))
        for b in panels[index + 1:]:
            box_b = b["box"]
            width = min(box_a["x"] + box_a["width"], box_b["x"] + box_b["width"]) - max(box_a["x"], box_b["x"])
            height = min(box_a["y"] + box_a["height"], box_b["y"] + box_b["height"]) - max(box_a["y"], box_b["y"])
            if width > 1 and height > 1:
                overlaps.append("%s overlaps %s by %dx%d px" % (a["id"], b["id"], width, height))
    assert overlaps == []
    PASSED.add(("overlap", name))


# Defined last, so that it runs after every check above (pytest keeps the file's order).
@pytest.mark.skipif(not UPDATE_SCREENSHOTS, reason="CTDETECT_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/")
@pytest.mark.parametrize("name", sorted(panel_data.DASHBOARDS))
def test_update_readme_screenshot(rendered, name):
    failed = [check for check in CHECKS_OVERALL if (check, None) not in PASSED]
    failed += [check for check in CHECKS_PER_DASHBOARD if (check, name) not in PASSED]
    assert failed == [], "%s: docs/screenshots/ not refreshed, these checks failed or did not run: %s" % (name, failed)
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(OUTPUT_DIR / ("%s.png" % name), SCREENSHOTS_DIR / ("%s.png" % name))


def test_axis_label_check_catches_unreadable_charts():
    # No browser: the check itself, on panels as render.mjs reports them.
    block = {"fields": [{"name": "instance_type"}, {"name": "instances"}],
             "columns": [["g4dn.12xlarge", "c7i.metal-48xl", "p2.xlarge"], ["4", "5", "11"]]}
    panel = {"xAxisLabels": ["g4dn.12xlarge", "c7i.metal-48xl", "p2.xlarge"], "yAxisLabels": ["0", "5", "10"]}
    assert axis_label_problems("viz", panel, block) == []
    assert axis_label_problems("viz", dict(panel, xAxisLabels=["g4dn...xlarge", "c7i.metal-48xl", "p2.xlarge"]), block) == []
    # Labels left out when the bars are too thin for them (what 15 bars in 300 px did).
    problems = axis_label_problems("viz", dict(panel, xAxisLabels=["g4dn.12xlarge"]), block)
    assert problems and "no axis label for ['c7i.metal-48xl', 'p2.xlarge']" in problems[0]
    # Two categories shortened to the same text cannot be told apart.
    block2 = {"fields": block["fields"], "columns": [["aws_security_group_ingress_ssh_from_anywhere", "aws_security_group_ingress_rdp_from_anywhere"], ["1", "2"]]}
    problems = axis_label_problems("viz", dict(panel, xAxisLabels=["aws_security...om_anywhere", "aws_security...om_anywhere"]), block2)
    assert problems == ["viz: categories shortened to the same label ['aws_security...om_anywhere']"]
    assert axis_label_problems("viz", dict(panel, yAxisLabels=[]), block) == ["viz: no value-axis labels"]
