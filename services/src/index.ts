export * from './orders/solver.js';
