// Period identifiers of docs/proofs.md §1: a local day in Europe/Rome (CET, UTC+1; CEST, UTC+2 from the last
// Sunday of March to the last Sunday of October, switching at 01:00 UTC).

const DAY = 86400;

function lastSunday(year, month /* 1-12 */) {
  const last = new Date(Date.UTC(year, month, 0)); // day 0 of the next month: the last day of this one
  return last.getUTCDate() - last.getUTCDay();
}

/** Unix time of local midnight of the day `periodId` (YYYYMMDD) and its number of quarter hours. */
export function periodGrid(periodId) {
  const id = Number(periodId);
  const [y, m, d] = [Math.floor(id / 10000), Math.floor(id / 100) % 100, id % 100];
  const utcMidnight = Date.UTC(y, m - 1, d) / 1000;
  if (!Number.isInteger(utcMidnight) || new Date(utcMidnight * 1000).getUTCDate() !== d) {
    throw new Error(`${periodId} is not a date written YYYYMMDD`);
  }
  const springDay = lastSunday(y, 3);
  const autumnDay = lastSunday(y, 10);
  const afterSpring = m > 3 || (m === 3 && d > springDay); // local midnight already in summer time
  const beforeAutumnEnd = m < 10 || (m === 10 && d <= autumnDay); // midnight of the autumn Sunday is still summer time
  const offset = afterSpring && beforeAutumnEnd ? 7200 : 3600;
  const start = utcMidnight - offset;
  let quarters = 96;
  if (m === 3 && d === springDay) quarters = 92;
  if (m === 10 && d === autumnDay) quarters = 100;
  return { start, quarters, step: 900, end: start + DAY - (3600 * (96 - quarters)) / 4 };
}
