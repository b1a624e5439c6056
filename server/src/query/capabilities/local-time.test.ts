/** Wall-clock arithmetic across daylight saving changes, checked against known transitions. */
import { instantOf, naiveLocal, weekdayOf, weekStartOf } from './local-time';

const t = (iso: string) => Date.parse(iso);

describe('local time', () => {
  it('reads the wall clock of an instant in a zone', () => {
    expect(naiveLocal(t('2024-01-15T12:00:00.250Z'), 'Asia/Kolkata')).toBe(t('2024-01-15T17:30:00.250Z'));
    expect(naiveLocal(t('2024-07-01T03:00:00Z'), 'America/New_York')).toBe(t('2024-06-30T23:00:00Z'));
    expect(naiveLocal(t('2024-07-01T03:00:00Z'), 'UTC')).toBe(t('2024-07-01T03:00:00Z'));
  });

  it('finds the instant of a wall-clock time, also where clocks change', () => {
    // New York, 2024-03-10: 02:00 EST becomes 03:00 EDT; 2024-11-03: 02:00 EDT becomes 01:00 EST.
    expect(instantOf(t('2024-03-10T00:00:00Z'), 'America/New_York')).toBe(t('2024-03-10T05:00:00Z'));
    expect(instantOf(t('2024-03-11T00:00:00Z'), 'America/New_York')).toBe(t('2024-03-11T04:00:00Z'));
    expect(instantOf(t('2024-03-10T02:30:00Z'), 'America/New_York')).toBe(t('2024-03-10T07:30:00Z')); // does not exist: 03:30 EDT
    expect(instantOf(t('2024-11-03T01:30:00Z'), 'America/New_York')).toBe(t('2024-11-03T05:30:00Z')); // twice: the earlier
    // Santiago, 2024-09-08: midnight does not exist (00:00 -04 becomes 01:00 -03); the day starts at 04:00Z.
    expect(instantOf(t('2024-09-08T00:00:00Z'), 'America/Santiago')).toBe(t('2024-09-08T04:00:00Z'));
    expect(naiveLocal(t('2024-09-08T04:00:00Z'), 'America/Santiago')).toBe(t('2024-09-08T01:00:00Z'));
    expect(instantOf(t('2024-01-15T00:00:00Z'), 'Asia/Kolkata')).toBe(t('2024-01-14T18:30:00Z'));
  });

  it('knows weekdays and week starts', () => {
    expect(weekdayOf(t('2024-01-15T00:00:00Z'))).toBe(0); // a Monday
    expect(weekdayOf(t('2024-01-21T00:00:00Z'))).toBe(6); // a Sunday
    expect(weekStartOf(t('2024-01-21T13:00:00Z'), 'monday')).toBe(t('2024-01-15T00:00:00Z'));
    expect(weekStartOf(t('2024-01-21T13:00:00Z'), 'sunday')).toBe(t('2024-01-21T00:00:00Z'));
    expect(weekStartOf(t('2024-01-20T13:00:00Z'), 'sunday')).toBe(t('2024-01-14T00:00:00Z'));
  });
});
