/**
 * src/ui imports downward only: models (state and logic, no React) → components (React) → adapters (JupyterLab,
 * the executor, the solver Worker) → src/index.ts. A file that imports a layer below its own fails here.
 */
import * as fs from 'fs';
import * as path from 'path';

const UI = path.resolve(__dirname, '..');
const LAYERS = ['models', 'components', 'adapters'];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map(m => m[1]);
}

function layerOf(file: string): number {
  return LAYERS.indexOf(path.relative(UI, file).split(path.sep)[0]);
}

describe('src/ui layers', () => {
  it('has every file in models/, components/ or adapters/', () => {
    const loose = fs.readdirSync(UI).filter(n => n !== '__tests__' && !LAYERS.includes(n));
    expect(loose).toEqual([]);
  });

  it('imports only its own layer and the ones above it; models have no React', () => {
    const wrong: string[] = [];
    for (const layer of LAYERS) {
      for (const file of files(path.join(UI, layer))) {
        for (const spec of imports(file)) {
          const rel = path.relative(UI, file);
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            if (target.startsWith(UI + path.sep) && layerOf(target) > layerOf(file)) {
              wrong.push(`${rel} imports ${spec}`);
            }
          } else if (layer === 'models' && /^(react|react-dom)(\/|$)/.test(spec)) {
            wrong.push(`${rel} imports ${spec}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
