import type { Forecast, ModelInput } from './model-base.js';

/**
 * Croston's method (with the Syntetos-Boylan bias correction) and TSB
 * (Teunter-Syntetos-Babai) for intermittent demand. No maintained npm library
 * implements them, and each is a few lines: smooth the non-zero demand size and
 * either the interval between demands (Croston) or the probability of demand
 * in a period (TSB, which also decays after a run of zeros). Smoothing
 * constants are picked from a small grid by in-sample one-step error;
 * intervals are empirical quantiles of those one-step errors, floored at zero.
 */
export function intermittent({ y, horizon }: ModelInput, method: 'croston' | 'tsb'): Forecast {
  const grid = [0.05, 0.1, 0.2, 0.3];
  let best: { sse: number; level: number; fitted: number[] } | undefined;
  for (const alpha of grid) {
    for (const beta of grid) {
      const run = method === 'tsb' ? tsbRun(y, alpha, beta) : crostonRun(y, alpha, beta);
      let sse = 0;
      for (let t = 0; t < y.length; t++) sse += (y[t] - run.fitted[t]) ** 2;
      if (!best || sse < best.sse) best = { sse, ...run };
      if (method === 'croston') break; // Croston uses one constant for both parts
    }
  }
  const { level, fitted } = best ?? { level: 0, fitted: [] };
  const errors = y.map((v, t) => v - fitted[t]).sort((a, b) => a - b);
  const q = (p: number) => (errors.length ? errors[Math.min(errors.length - 1, Math.floor(p * errors.length))] : 0);
  const point = Array.from({ length: horizon }, () => level);
  const band = (p: number) => point.map((v) => Math.max(0, v + q(p)));
  return { point, lo80: band(0.1), hi80: band(0.9), lo95: band(0.025), hi95: band(0.975) };
}

function tsbRun(y: readonly number[], alpha: number, beta: number) {
  const first = y.findIndex((v) => v > 0);
  let size = first >= 0 ? y[first] : 0;
  let prob = y.filter((v) => v > 0).length / Math.max(y.length, 1);
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push(prob * size);
    if (v > 0) {
      size += alpha * (v - size);
      prob += beta * (1 - prob);
    } else {
      prob += beta * (0 - prob);
    }
  }
  return { level: prob * size, fitted };
}

function crostonRun(y: readonly number[], alpha: number, _beta: number) {
  const first = y.findIndex((v) => v > 0);
  let size = first >= 0 ? y[first] : 0;
  let interval = Math.max(1, y.length / Math.max(1, y.filter((v) => v > 0).length));
  let since = 1;
  const sba = 1 - alpha / 2; // Syntetos-Boylan approximation removes Croston's upward bias
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push((sba * size) / interval);
    if (v > 0) {
      size += alpha * (v - size);
      interval += alpha * (since - interval);
      since = 1;
    } else {
      since++;
    }
  }
  return { level: (sba * size) / interval, fitted };
}
