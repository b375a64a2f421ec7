// A status line that says what just happened ("Exported ... to your downloads.") and goes away after a
// while, so an old message is never mistaken for the result of the next action. Errors stay until replaced.
export class Note {
  text = $state('');
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly ms = 8_000) {}

  show(text: string, fades = true): void {
    clearTimeout(this.#timer);
    this.text = text;
    if (fades) this.#timer = setTimeout(() => (this.text = ''), this.ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.text = '';
  }
}
