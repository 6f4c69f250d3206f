// The play panel: the browser is an agent too. It makes an env on /gym with the JS client and
// steps it from the keyboard, drawing env.render()'s frame after every step. It connects to /gym
// only once used: a page left open holds no agent connection.

import { connect } from "/ui/vendor/gymie-client/index.js";
import { drawRGB } from "/ui/frames.js";

// Keys -> actions, per env; `idle` is what auto-step sends when no key is held.
const KEYMAPS = {
  "CartPole-v1": { keys: { ArrowLeft: 0, ArrowRight: 1 }, idle: null, help: "← push left · → push right" },
  "ALE/Pong-v5": { keys: { ArrowUp: 2, ArrowDown: 3, " ": 1 }, idle: 0, help: "↑ up · ↓ down · space fire (turn on auto-step to play in real time)" },
};
const GENERIC = { keys: Object.fromEntries([..."0123456789"].map((d) => [d, Number(d)])), idle: 0, help: "digits: discrete actions 0-9" };
const AUTO_STEP_MS = 33;
const QUEUE_LIMIT = 8;

export class Play {
  constructor(url, token, element, onError) {
    this.url = url;
    this.token = token;
    this.onError = onError;
    this.$ = (id) => element.querySelector(`#${id}`);
    this.client = null;
    this.env = null;
    this.queue = [];
    this.busy = false;
    this.held = null;
    this.last = null;
    this.done = false;
    this.counts = { steps: 0, ret: 0, episodes: 0 };
    this.$("play-make").addEventListener("click", () => this.guard(() => this.make()));
    this.$("play-reset").addEventListener("click", () => this.guard(() => this.reset()));
    this.$("play-close").addEventListener("click", () => this.guard(() => this.close()));
    this.$("play-auto").addEventListener("change", () => this.autoStep());
    document.addEventListener("keydown", (event) => this.keydown(event));
    document.addEventListener("keyup", (event) => { if (this.keymap().keys[event.key] === this.held) this.held = null; });
  }

  /** Show the keys; the first time the env list is opened, keep only the envs this server has. */
  start() {
    this.$("play-keys").textContent = this.keymap().help;
    this.$("play-env").addEventListener("change", () => (this.$("play-keys").textContent = this.keymap().help));
    this.$("play-env").addEventListener("focus", () => this.guard(() => this.offerEnvs()), { once: true });
  }

  async offerEnvs() {
    const envs = new Set(await (await this.connection()).listEnvs());
    for (const option of [...this.$("play-env").options]) if (!envs.has(option.value)) option.remove();
  }

  async connection() {
    if (this.client === null || this.client.connection.isClosed) {
      this.client = await connect(this.url, { token: this.token, timeout: 30_000 });
      this.client.connection.closed.then((err) => {
        if (this.env !== null) this.status(`The play connection closed (${err.message}); make the env again.`);
        this.env = null;
        this.buttons();
      });
    }
    return this.client;
  }

  keymap() {
    return KEYMAPS[this.env?.envInfo.env_id ?? this.$("play-env").value] ?? GENERIC;
  }

  async make() {
    await this.close();
    const envId = this.$("play-env").value;
    this.status(`making ${envId}…`);
    const client = await this.connection();
    this.env = await client.make(envId, { render_mode: "rgb_array" });
    this.counts.episodes = 0;
    this.$("play-keys").textContent = this.keymap().help;
    await this.reset();
  }

  async reset() {
    if (this.env === null) return;
    await this.env.reset();
    this.done = false;
    this.counts.steps = 0;
    this.counts.ret = 0;
    this.queue = [];
    await this.draw();
    this.status(`${this.env.envInfo.env_id}: your move`);
    this.buttons();
    this.$("play-canvas").focus({ preventScroll: true });
  }

  async close() {
    const env = this.env;
    this.env = null;
    this.queue = [];
    this.buttons();
    if (env !== null) await env.close().catch(() => {});
  }

  keydown(event) {
    if (this.env === null || event.target.tagName === "SELECT" || event.target.tagName === "INPUT") return;
    if (event.key === "r" || event.key === "Enter") {
      event.preventDefault();
      this.guard(() => this.reset());
      return;
    }
    const action = this.keymap().keys[event.key];
    if (action === undefined) return;
    event.preventDefault();
    this.held = action;
    if (this.$("play-auto").checked || event.repeat) return;
    if (this.queue.length < QUEUE_LIMIT) this.queue.push(action);
    this.guard(() => this.drain());
  }

  autoStep() {
    clearInterval(this.timer);
    if (!this.$("play-auto").checked) return;
    this.timer = setInterval(() => {
      if (this.env === null || this.busy || this.done) return;
      const action = this.held ?? this.keymap().idle ?? this.last;
      if (action === null || action === undefined) return;
      this.queue.push(action);
      this.guard(() => this.drain());
    }, AUTO_STEP_MS);
  }

  async drain() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && this.env !== null) {
        const action = this.queue.shift();
        if (this.done) { this.queue = []; break; }
        const { reward, terminated, truncated } = await this.env.step(action);
        this.last = action;
        this.counts.steps += 1;
        this.counts.ret += Number(reward);
        if (terminated || truncated) {
          this.done = true;
          this.counts.episodes += 1;
          this.status(`Episode over: return ${this.counts.ret}. Press R or Enter (or Reset) to play again.`);
        }
        await this.draw();
      }
    } finally {
      this.busy = false;
    }
  }

  async draw() {
    if (this.env === null) return;
    const frame = await this.env.render();
    if (frame && frame.shape) drawRGB(this.$("play-canvas"), frame);
    this.$("play-steps").textContent = String(this.counts.steps);
    this.$("play-return").textContent = String(Math.round(this.counts.ret * 100) / 100);
    this.$("play-episodes").textContent = String(this.counts.episodes);
  }

  buttons() {
    this.$("play-reset").disabled = this.$("play-close").disabled = this.env === null;
  }

  status(text) {
    this.$("play-status").textContent = text;
  }

  guard(action) {
    action().catch((error) => {
      this.status(`Error: ${error.message}`);
      this.onError?.(error);
    });
  }
}
