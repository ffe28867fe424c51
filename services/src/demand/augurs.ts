import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as mstl from '@bsull/augurs/mstl';
import * as prophet from '@bsull/augurs/prophet';
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
    ready = true;
  }
  return { MSTL: mstl.MSTL, Prophet: prophet.Prophet, optimizer };
}

export type ProphetHoliday = prophet.ProphetHoliday;
