// Bundles app.jsx with esbuild into <outdir>/app.js (+ app.css). Usage: node build.mjs <outdir>
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
await esbuild.build({
    entryPoints: [path.join(here, 'app.jsx')],
    bundle: true,
    format: 'iife',
    jsx: 'automatic',
    minify: true,
    logLevel: 'error',
    outfile: path.join(outdir, 'app.js'),
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    loader: {
        '.svg': 'dataurl', '.png': 'dataurl', '.gif': 'dataurl', '.woff': 'dataurl',
        '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl',
    },
    nodePaths: [path.join(here, '..', 'node_modules')],
});
