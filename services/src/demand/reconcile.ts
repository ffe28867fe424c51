import type { Forecast } from './models.js';

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;

/**
 * Bottom-up reconciliation: an upper level's forecast is the sum of its
 * children's, so product, category and brand always agree with the SKUs.
 * Intervals: the children's errors are taken as independent, so variances
 * add; each child's sd is read off its 95% upper half-width (the upper side,
 * since lower bounds are floored at zero). The lower bound is floored at zero.
 */
export function sumForecasts(children: readonly Forecast[]): Forecast {
  const horizon = children[0]?.point.length ?? 0;
  const point = new Array<number>(horizon).fill(0);
  const variance = new Array<number>(horizon).fill(0);
  for (const c of children) {
    for (let h = 0; h < horizon; h++) {
      point[h] += c.point[h];
      variance[h] += ((c.hi95[h] - c.point[h]) / Z95) ** 2;
    }
  }
  const sd = variance.map(Math.sqrt);
  return {
    point,
    lo80: point.map((p, h) => Math.max(0, p - Z80 * sd[h])),
    hi80: point.map((p, h) => p + Z80 * sd[h]),
    lo95: point.map((p, h) => Math.max(0, p - Z95 * sd[h])),
    hi95: point.map((p, h) => p + Z95 * sd[h]),
  };
}
