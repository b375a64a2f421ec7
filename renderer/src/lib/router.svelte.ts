// Hash routing (#/certificates): works from file://, a custom protocol and web mode alike, and keeps
// the ?token= query of web mode untouched.
export const SCREENS = [
  { id: 'overview', label: 'Overview' },
  { id: 'certificates', label: 'Certificates' },
  { id: 'servers', label: 'Servers' },
  { id: 'proxies', label: 'Front a server' },
  { id: 'log', label: 'Frame log' },
  { id: 'client', label: 'Client' },
  { id: 'doctor', label: 'Doctor' },
  { id: 'lab', label: 'Lab' },
] as const;
export type ScreenId = (typeof SCREENS)[number]['id'];

function parse(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, '').split('/')[0];
  return (SCREENS.find((s) => s.id === id)?.id ?? 'overview') as ScreenId;
}

export class Router {
  current = $state<ScreenId>(parse(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.current = parse(location.hash)));
  }

  go(id: ScreenId): void {
    if (location.hash !== `#/${id}`) location.hash = `#/${id}`;
    this.current = id;
  }
}
