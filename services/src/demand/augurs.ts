import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ets from '@bsull/augurs/ets';
import * as mstl from '@bsull/augurs/mstl';
import * as prophet from '@bsull/augurs/prophet';
import * as seasons from '@bsull/augurs/seasons';
import { optimizer } from '@bsull/augurs-prophet-wasmstan';

export type { Forecast as AugursForecast } from '@bsull/augurs/mstl';

const require = createRequire(import.meta.url);
let ready = false;

/**
 * Loads the augurs WASM modules synchronously from node_modules. Their default
 * async initialiser fetches the .wasm by URL, which Node's fetch cannot do for
 * file: URLs; `initSync` with the bytes works in the main thread and in workers.
 */
export function loadAugurs() {
  if (!ready) {
    const dir = path.dirname(require.resolve('@bsull/augurs/mstl'));
    mstl.initSync({ module: readFileSync(path.join(dir, 'mstl_bg.wasm')) });
    prophet.initSync({ module: readFileSync(path.join(dir, 'prophet_bg.wasm')) });
    ets.initSync({ module: readFileSync(path.join(dir, 'ets_bg.wasm')) });
    seasons.initSync({ module: readFileSync(path.join(dir, 'seasons_bg.wasm')) });
    ready = true;
  }
  return {
    MSTL: mstl.MSTL,
    AutoETS: ets.AutoETS,
    Prophet: prophet.Prophet,
    optimizer,
    seasonalities: seasons.seasonalities,
  };
}

export type ProphetHoliday = prophet.ProphetHoliday;

type ProphetClass = typeof prophet.Prophet;
let prophetFactory: (() => { Prophet: ProphetClass; initSync: typeof prophet.initSync }) | undefined;
// Node has WebAssembly; this package's TypeScript lib (no DOM) does not declare it.
type WasmModule = Parameters<typeof prophet.initSync>[0];
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule };
};
let prophetModule: WasmModule | undefined;

/**
 * A Prophet class on its own, fresh WASM instance. augurs' Prophet keeps the
 * holidays in a Rust HashMap, whose hash keys (fixed on this target, then
 * counted up with every map made) give the holiday columns an order that
 * depends on how many maps the instance made before: the same data fitted
 * after different series gave forecasts differing in the fifth digit (issue
 * 16). A fresh instance per fit starts the count from the same place, so the
 * same data give the same forecast in every process and thread. The glue is
 * wasm-bindgen's prophet.js, evaluated again (its module state is the
 * instance); the WASM is compiled once.
 */
export function freshProphet(): ProphetClass {
  if (!prophetFactory || !prophetModule) {
    const dir = path.dirname(require.resolve('@bsull/augurs/prophet'));
    const source = readFileSync(path.join(dir, 'prophet.js'), 'utf8')
      .replace(/^export (class|function) /gm, '$1 ')
      .replace(/^export \{[^}]*\};?$/gm, '')
      .replace(/import\.meta\.url/g, "'file:///augurs/prophet.js'");
    // Evaluated, not imported: an ES module is one instance per process, and import() is asynchronous.
    prophetFactory = new Function(`${source}\nreturn { Prophet, initSync };`) as typeof prophetFactory;
    prophetModule = new Wasm.Module(readFileSync(path.join(dir, 'prophet_bg.wasm')));
  }
  const glue = (prophetFactory as NonNullable<typeof prophetFactory>)();
  glue.initSync({ module: prophetModule as WasmModule });
  return glue.Prophet;
}
