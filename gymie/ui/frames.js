// Drawing frames on a <canvas>: RGB(A) arrays from env.render(), and PNGs from /watch.

/** Draw an NDArray {data: Uint8Array, shape: [H, W, C]} of RGB or RGBA pixels; resize the canvas to fit. */
export function drawRGB(canvas, frame) {
  const [h, w, c = 1] = frame.shape;
  const rgba = new ImageData(w, h);
  const src = frame.data, dst = rgba.data;
  for (let i = 0, j = 0; j < dst.length; i += c, j += 4) {
    dst[j] = src[i];
    dst[j + 1] = src[c >= 3 ? i + 1 : i];
    dst[j + 2] = src[c >= 3 ? i + 2 : i];
    dst[j + 3] = c === 4 ? src[i + 3] : 255;
  }
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  canvas.getContext("2d").putImageData(rgba, 0, 0);
}

/** Draw PNG bytes (a Uint8Array, or base64 text over JSON); resolves once drawn. */
export async function drawPNG(canvas, png) {
  const bytes = typeof png === "string" ? Uint8Array.from(atob(png), (ch) => ch.charCodeAt(0)) : png;
  const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
}

/** Write a message across a blank canvas. */
export function drawMessage(canvas, text) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f3f3f3";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#a33";
  ctx.font = `${Math.max(10, Math.round(canvas.width / 32))}px sans-serif`;
  ctx.textAlign = "center";
  ctx.fillText(text, canvas.width / 2, canvas.height / 2, canvas.width - 20);
  ctx.textAlign = "start";
}
