import { SimEvent, TrafficModel, TrafficOptions } from '../../scripts/traffic-model';

/** Every event the simulator's model yields, in the order it yields them. */
export function simulatedTraffic(options: TrafficOptions): SimEvent[] {
  const model = new TrafficModel(options);
  const events: SimEvent[] = [];
  for (let e = model.next(); e !== undefined; e = model.next()) {
    events.push(e);
  }
  return events;
}

/** A copy in a deterministic shuffled order (a linear congruential generator from `seed`). */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
