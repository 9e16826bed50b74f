/** One metric sample of a device: what a tick produces and what is written. */
export interface DevicePoint {
  /** 1, 2, 3… per device run: a reader can tell whether any is missing. */
  seq: number;
  value: number;
  /** Milliseconds since the epoch; strictly increasing per device, so no two points share a series and time. */
  timestamp: number;
}

/**
 * The point in line protocol at millisecond precision:
 * `device_metrics,device=<id> value=<n>,seq=<seq>i <timestamp>`.
 */
export function toLine(measurement: string, deviceId: string, point: DevicePoint): string {
  return `${escapeMeasurement(measurement)},device=${escapeTag(deviceId)} value=${formatFloat(point.value)},seq=${point.seq}i ${point.timestamp}`;
}

// Line protocol: a measurement escapes commas and spaces; tag keys and values also escape "=".
function escapeMeasurement(text: string): string {
  return text.replace(/[, ]/g, (c) => `\\${c}`);
}

function escapeTag(text: string): string {
  return text.replace(/[,= ]/g, (c) => `\\${c}`);
}

function formatFloat(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`a point's value must be a finite number, got ${value}`);
  return String(value);
}
