import { referenceFormatEventTime, referenceInstantOfWall, referenceZoneOffset } from './event-time-reference.js';
import { daysFromCivil, DAY_MS, formatWallClock, HOUR_MS, MIN_YEAR } from './wall-clock.js';

/** One hour of a piecewise-constant offset: `before` until `changeAt` (exclusive), `after` from it. */
interface HourOffsets {
  readonly before: number;
  readonly changeAt: number;
  readonly after: number;
}

/** Hours remembered per cache; past this the cache starts again (garbage times must not grow memory). */
const MAX_HOURS = 8_192;

/**
 * A piecewise-constant offset function of a time in whole seconds (`exact`, slow: Intl), cached per
 * hour. An hour is checked at both ends; when they differ, the second of the change is bisected
 * (12 more calls). This assumes the offset changes at most once within an hour: in the tz database
 * a zone's offset changes are days apart (the closest, Africa/Freetown in 1939, by 4 days), and
 * the reference's choice in DST gaps and overlaps changes once per change of the offset.
 */
class HourlyOffsets {
  private readonly hours = new Map<number, HourOffsets>();
  private lastHour = Number.NaN;
  private last: HourOffsets = { before: 0, changeAt: 0, after: 0 };

  constructor(private readonly exact: (time: number) => number) {}

  /** The offset at `time` (whole seconds). */
  at(time: number): number {
    const hour = Math.floor(time / HOUR_MS);
    if (hour !== this.lastHour) {
      let offsets = this.hours.get(hour);
      if (offsets === undefined) {
        offsets = this.build(hour * HOUR_MS);
        if (this.hours.size >= MAX_HOURS) this.hours.clear();
        this.hours.set(hour, offsets);
      }
      this.lastHour = hour;
      this.last = offsets;
    }
    return time < this.last.changeAt ? this.last.before : this.last.after;
  }

  private build(start: number): HourOffsets {
    const before = this.exact(start);
    let high = start + HOUR_MS;
    if (this.exact(high) === before) return { before, changeAt: Infinity, after: before };
    let low = start; // exact(low) is `before`, exact(high) is not
    while (high - low > 1_000) {
      const middle = low + Math.floor((high - low) / 2_000) * 1_000;
      if (this.exact(middle) === before) low = middle;
      else high = middle;
    }
    return { before, changeAt: high, after: this.exact(high) };
  }
}

/** Wall times with four-digit years: what formatWallClock writes and wallClockMillis reads. */
const MIN_WALL = daysFromCivil(MIN_YEAR, 1, 1) * DAY_MS;
const MAX_WALL = daysFromCivil(10_000, 1, 1) * DAY_MS;

/**
 * Event times of one IANA zone, fast: the results of event-time-reference.ts, which builds the
 * caches, at the cost of a division and a comparison once the hour is known. Parsing caches, per
 * wall-clock hour, the offset the reference chooses (so DST gaps and overlaps come out as the
 * reference decides them); formatting caches the zone's UTC offset per UTC hour.
 */
export class ZoneClock {
  private readonly wallHours: HourlyOffsets;
  private readonly utcHours: HourlyOffsets;
  /** The last second formatted: a generator writes thousands of events per second. */
  private lastSecond = Number.NaN;
  private lastText = '';

  constructor(readonly zone: string) {
    this.wallHours = new HourlyOffsets((wall) => wall - referenceInstantOfWall(wall, zone));
    this.utcHours = new HourlyOffsets((instant) => referenceZoneOffset(instant, zone));
  }

  /** The instant (epoch ms) at which the zone's clocks show `wall` (wall-clock.ts's wall milliseconds). */
  instantOf(wall: number): number {
    return wall - this.wallHours.at(wall);
  }

  /** `YYYY-MM-DD HH:mm:ss` of the second containing `instant`, in the zone. */
  format(instant: number): string {
    const second = Math.floor(instant / 1_000) * 1_000;
    if (second === this.lastSecond) return this.lastText;
    if (!(second >= MIN_WALL - DAY_MS && second < MAX_WALL + DAY_MS))
      return referenceFormatEventTime(instant, this.zone);
    const wall = second + this.utcHours.at(second);
    if (!(wall >= MIN_WALL && wall < MAX_WALL)) return referenceFormatEventTime(instant, this.zone);
    this.lastSecond = second;
    this.lastText = formatWallClock(wall);
    return this.lastText;
  }
}
