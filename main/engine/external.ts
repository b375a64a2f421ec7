// Which links app.openExternal may open (Electron checklist: never hand an arbitrary URL to
// shell.openExternal). Documentation over https on an allow-list, plus the lab page of one of OUR running
// echo servers, exactly its scheme and host:port, on a loopback address or its certificate's DNS name (the
// Lab screen opens it in the real browser).
export const EXTERNAL_LINK_PREFIXES = [
  'https://github.com/',
  'https://developer.mozilla.org/',
  'https://www.electronjs.org/docs/',
  'https://developer.chrome.com/',
  'https://chromium.googlesource.com/',
  'https://www.rfc-editor.org/',
  'https://datatracker.ietf.org/',
  'https://support.mozilla.org/',
  'https://wiki.debian.org/',
];

export function isAllowedExternal(raw: string, labUrls: string[] = []): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  const href = u.href;
  if (u.protocol === 'https:' && EXTERNAL_LINK_PREFIXES.some((p) => href.startsWith(p)))
    return true;
  return labUrls.some((lab) => {
    try {
      const l = new URL(lab);
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') &&
        u.protocol === l.protocol &&
        u.host === l.host &&
        // Loopback, or a DNS name the server's certificate covers (its URL is shown under that name,
        // e.g. https://app.test:8443/; main/echo/urls.ts): never a bare non-loopback IP.
        (/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(u.hostname) ||
          /^(?=.*[a-z])[a-z0-9.-]+$/i.test(u.hostname))
      );
    } catch {
      return false;
    }
  });
}
