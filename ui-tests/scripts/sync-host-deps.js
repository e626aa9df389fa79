// Regenerates the host app's dependency pins from @jupyterlab/core-meta's release set.
// Usage: node scripts/sync-host-deps.js <path to core.package.json>
// Every @jupyterlab/* package is pinned exactly and overridden, so that npm never mixes
// two JupyterLab patch releases (which duplicates shared singletons at runtime).
const fs = require('fs');
const path = require('path');

const corePath = process.argv[2] || require.resolve('@jupyterlab/core-meta/core.package.json');
const core = JSON.parse(fs.readFileSync(corePath, 'utf8'));
const pkgPath = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
const exact = range => range.replace(/^[~^]/, '');

const overrides = {};
for (const [name, range] of Object.entries(core.resolutions)) {
  if (name.startsWith('@jupyterlab/')) overrides[name] = exact(range);
  else if (name.startsWith('@jupyter/')) overrides[name] = range;
}
// JupyterLab's own lockfile uses these; fast-foundation 2.50 overflows the stack in design tokens.
overrides['@microsoft/fast-foundation'] = '2.49.4';
overrides['@microsoft/fast-element'] = '1.12.0';

for (const name of [...pkg.jupyterlab.extensions, '@jupyterlab/application', '@jupyterlab/coreutils', '@jupyterlab/terminal']) {
  pkg.dependencies[name] = exact(core.resolutions[name]);
}
pkg.overrides = overrides;
fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
