// A small line chart on a <canvas>: the last `capacity` values, min/max labels, no library.

export class LineChart {
  constructor(canvas, { color = "#2a7ab0", capacity = 300 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.color = color;
    this.capacity = capacity;
    this.values = [];
  }

  /** Append one value (null and non-finite values are skipped). */
  push(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    this.values.push(value);
    if (this.values.length > this.capacity) this.values.splice(0, this.values.length - this.capacity);
    this.draw();
  }

  /** Replace every value. */
  set(values) {
    this.values = values.filter((v) => v !== null && Number.isFinite(v)).slice(-this.capacity);
    this.draw();
  }

  clear() {
    this.values = [];
    this.draw();
  }

  draw() {
    const { ctx, canvas, values } = this;
    const w = canvas.width, h = canvas.height, pad = 4, left = 44;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = "#777";
    ctx.font = "11px sans-serif";
    if (values.length === 0) {
      ctx.fillText("no data yet", left, h / 2);
      return;
    }
    let lo = Math.min(...values), hi = Math.max(...values);
    if (lo === hi) { lo -= 1; hi += 1; }
    ctx.textBaseline = "top";
    ctx.fillText(format(hi), pad, pad);
    ctx.textBaseline = "bottom";
    ctx.fillText(format(lo), pad, h - pad);
    ctx.strokeStyle = "#ddd";
    ctx.beginPath();
    ctx.moveTo(left, pad);
    ctx.lineTo(left, h - pad);
    ctx.lineTo(w - pad, h - pad);
    ctx.stroke();
    const x = (i) => left + ((w - left - pad) * i) / Math.max(1, this.capacity - 1);
    const y = (v) => h - pad - ((h - 2 * pad) * (v - lo)) / (hi - lo);
    ctx.strokeStyle = this.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
    ctx.stroke();
    if (values.length === 1) ctx.fillRect(x(0) - 1.5, y(values[0]) - 1.5, 3, 3);
  }
}

function format(v) {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(2);
}
