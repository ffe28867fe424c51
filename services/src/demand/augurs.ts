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
