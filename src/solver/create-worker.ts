/** The only place with import.meta (ts-jest cannot compile it; specs jest.mock this module). */
export function createSolverWorker(): Worker {
  return new Worker(new URL('./solver.worker.js', import.meta.url));
}
