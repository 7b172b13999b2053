// Renders Dashboard Studio definitions in headless Chromium and reports what each panel shows.
// Usage: node render.mjs <job.json>
//   job: {"bundleDir": dir with app.js/app.css, "outDir": dir for screenshots and report.json,
//         "dashboards": [{"name": "overview", "definitionPath": "..."}]}
// The page is served on 127.0.0.1; every request to any other address is aborted and listed.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const definitions = Object.fromEntries(
    job.dashboards.map((d) => [d.name, fs.readFileSync(d.definitionPath, 'utf8')]),
);

function page(name) {
    // The definition is embedded as JSON; "<" is escaped so no "</script>" can end the tag.
    const json = definitions[name].replace(/</g, '\\u003c');
    return `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title>
<link rel="stylesheet" href="/app.css"><style>body{margin:0;background:#fff}</style></head>
<body><div id="root"></div><script>window.__DEFINITION__ = ${json};
window.$C = {SPLUNKD_PATH: '/splunkd/__raw', MRSPARKLE_ROOT_PATH: '', LOCALE: 'en-US', USERNAME: 'test', APP: 'cloudtrail_detect',
    SERVER_ZONEINFO: '### SERIALIZED TIMEZONE FORMAT 1.0;Y0 NW 55 54 43;$'};</script>
<script src="/app.js"></script></body></html>`;
}

// A 1x1 transparent PNG.
const BLANK_TILE = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const report404 = [];
const splunkdCalls = [];
const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/app.js' || url.pathname === '/app.css') {
        const file = path.join(job.bundleDir, url.pathname.slice(1));
        res.writeHead(200, { 'content-type': url.pathname.endsWith('.js') ? 'text/javascript' : 'text/css' });
        fs.createReadStream(file).pipe(res);
        return;
    }
    if (url.pathname.startsWith('/splunkd/')) {
        // Splunk REST calls of the time picker and the renderer: answered with empty lists.
        splunkdCalls.push(req.url);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entry: [], messages: [] }));
        return;
    }
    const match = url.pathname.match(/^\/dashboard\/([\w-]+)$/);
    if (match && definitions[match[1]] !== undefined) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page(match[1]));
        return;
    }
    report404.push(req.url);
    res.writeHead(404);
    res.end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
    executablePath: job.executablePath || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = { blocked: [], tiles: [], dashboards: {} };
const VIEWPORT = { width: 1500, height: 1000 };
try {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') {
            return route.continue();
        }
        if (/basemaps|tile/.test(url.hostname + url.pathname) && /\.(png|jpe?g|webp)$/.test(url.pathname)) {
            // The map's base tiles: answered here with a blank tile so the map finishes loading
            // (and draws its bubbles) at once instead of waiting out failed requests.
            report.tiles.push(route.request().url());
            return route.fulfill({ status: 200, contentType: 'image/png', body: BLANK_TILE });
        }
        report.blocked.push(route.request().url());
        return route.abort('blockedbyclient');
    });
    for (const { name } of job.dashboards) {
        const pg = await context.newPage();
        const consoleErrors = [];
        pg.on('pageerror', (err) => consoleErrors.push(String(err)));
        pg.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
        await pg.goto(`${base}/dashboard/${name}`);
        const expected = JSON.parse(definitions[name]).layout.structure.length;
        await pg.waitForFunction(
            (n) => document.querySelectorAll('[data-test=viz-item]').length >= n, expected, { timeout: 30000 },
        ).catch(() => {});
        // Wait until what the panels show stops changing (charts animate, tables paint late), and
        // maps have drawn their bubbles (once the map has loaded its style and base tiles).
        const visualizations = JSON.parse(definitions[name]).visualizations || {};
        const mapIds = Object.keys(visualizations).filter((id) => visualizations[id].type === 'splunk.map');
        const settle = async () => {
            let previous = '';
            let stableSince = Date.now();
            const deadline = Date.now() + 20000;
            while (Date.now() < deadline) {
                await pg.waitForTimeout(250);
                const snapshot = await pg.evaluate(() => [...document.querySelectorAll('[data-test=viz-item]')]
                    .map((el) => el.innerText + '|' + el.querySelectorAll('svg *, tr, canvas').length
                        + '|' + [...el.querySelectorAll('svg')].map((svg) => svg.getAttribute('width')).join(',')).join('\n'));
                if (snapshot !== previous) { previous = snapshot; stableSince = Date.now(); }
                else if (Date.now() - stableSince > 1200) break;
            }
            const mapsDrawn = (ids) => ids.every((id) => {
                const el = document.querySelector(`[data-test=viz-item][data-id="${id}"]`);
                return el !== null && el.querySelectorAll('svg *').length > 0;
            });
            if (mapIds.length > 0) {
                await pg.waitForFunction(mapsDrawn, mapIds, { timeout: 60000 }).catch(() => {});
            }
        };
        await settle();
        // A full-page screenshot of a page taller than the window resizes the window while it
        // captures, and the charts redraw for the new size: captured then, they are blank. So
        // the window is made as tall as the page first, and the page settles again.
        const pageHeight = await pg.evaluate(() => Math.ceil(document.documentElement.scrollHeight));
        if (pageHeight > VIEWPORT.height) {
            await pg.setViewportSize({ width: VIEWPORT.width, height: pageHeight });
            await settle();
        }
        await pg.waitForTimeout(500);
        const panels = await pg.evaluate(() => [...document.querySelectorAll('[data-test=viz-item]')].map((el) => {
            const box = el.getBoundingClientRect();
            const chart = el.querySelector('svg.highcharts-root, .highcharts-root');
            const a11y = [...el.querySelectorAll('[aria-label], .highcharts-a11y-proxy-container, .highcharts-screen-reader-region')]
                .map((n) => n.getAttribute('aria-label') || n.textContent || '').filter(Boolean).slice(0, 6);
            return {
                id: el.getAttribute('data-id'),
                box: { x: box.x, y: box.y + window.scrollY, width: box.width, height: box.height },
                text: el.innerText,
                tableRows: el.querySelectorAll('tbody tr').length,
                svgElements: el.querySelectorAll('svg *').length,
                hasChart: Boolean(chart),
                chartSeriesPoints: el.querySelectorAll('.highcharts-point').length,
                mapMarkers: el.querySelectorAll('.leaflet-marker-icon, .leaflet-interactive, circle, path.leaflet-interactive').length,
                // The labels drawn on each chart axis (category names, dates, numbers), as shown:
                // Highcharts leaves out or shortens the labels that do not fit.
                xAxisLabels: [...el.querySelectorAll('.highcharts-xaxis-labels text, .highcharts-xaxis-labels span')]
                    .map((n) => n.textContent.trim()).filter(Boolean),
                yAxisLabels: [...el.querySelectorAll('.highcharts-yaxis-labels text, .highcharts-yaxis-labels span')]
                    .map((n) => n.textContent.trim()).filter(Boolean),
                a11y,
            };
        }));
        const shot = path.join(job.outDir, `${name}.png`);
        const png = await pg.screenshot({ path: shot, fullPage: true });
        // What the screenshot shows in each panel: the share of its pixels in colour (series,
        // bars, bubbles; text, grid lines and a blank or grey chart area are not). The DOM can
        // hold a chart's points while the picture shows none.
        const colour = await pg.evaluate(async ({ b64, boxes }) => {
            const image = new Image();
            image.src = `data:image/png;base64,${b64}`;
            await image.decode();
            const canvas = document.createElement('canvas');
            canvas.width = image.width;
            canvas.height = image.height;
            const context2d = canvas.getContext('2d');
            context2d.drawImage(image, 0, 0);
            const out = {};
            for (const { id, box } of boxes) {
                const x = Math.max(0, Math.floor(box.x));
                const y = Math.max(0, Math.floor(box.y));
                const w = Math.min(image.width - x, Math.floor(box.width));
                const h = Math.min(image.height - y, Math.floor(box.height));
                if (w <= 0 || h <= 0) { out[id] = 0; continue; }
                const pixels = context2d.getImageData(x, y, w, h).data;
                let coloured = 0;
                for (let i = 0; i < pixels.length; i += 4) {
                    const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
                    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
                }
                out[id] = coloured / (w * h);
            }
            return out;
        }, { b64: png.toString('base64'), boxes: panels.map((p) => ({ id: p.id, box: p.box })) });
        for (const panel of panels) panel.colouredShare = colour[panel.id];
        report.dashboards[name] = {
            panels,
            screenshot: shot,
            validationErrors: await pg.evaluate(() => window.__validationErrors || []),
            consoleErrors,
            pageText: await pg.evaluate(() => document.body.innerText),
        };
        await pg.close();
    }
} finally {
    await browser.close();
    server.close();
}
report.notFound = report404;
report.splunkdCalls = splunkdCalls;
fs.writeFileSync(path.join(job.outDir, 'report.json'), JSON.stringify(report, null, 1));
