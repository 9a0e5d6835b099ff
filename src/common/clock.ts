/**
 * Where "now" comes from for answers relative to the present (`olderThan=24h`). The service
 * uses the system clock; tests hand createApp a fixed one, so such answers are exact.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock that always says `at` (epoch ms or a Date). */
export class FixedClock extends Clock {
  private readonly at: number;

  constructor(at: number | Date) {
    super();
    this.at = typeof at === 'number' ? at : at.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }
}
