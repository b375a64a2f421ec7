// Which Linux family we are on, read from <root>/etc/os-release, only to name the right package in hints
// ("apt install libnss3-tools" vs "dnf install nss-tools"). Never decides behaviour on its own.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type DistroFamily = 'debian' | 'fedora' | 'arch' | 'suse' | 'alpine' | 'unknown';

export function distroFamily(root: string): DistroFamily {
  let text = '';
  for (const f of ['etc/os-release', 'usr/lib/os-release']) {
    try {
      text = readFileSync(path.join(root, f), 'utf8');
      break;
    } catch {
      // try the next location
    }
  }
  const field = (k: string) =>
    (new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1] ?? '')
      .replace(/^["']|["']$/g, '')
      .toLowerCase();
  const ids = [field('ID'), ...field('ID_LIKE').split(/\s+/)];
  if (ids.some((i) => ['debian', 'ubuntu'].includes(i))) return 'debian';
  if (ids.some((i) => ['fedora', 'rhel', 'centos'].includes(i))) return 'fedora';
  if (ids.some((i) => ['arch', 'manjaro'].includes(i))) return 'arch';
  if (ids.some((i) => i === 'suse' || i.startsWith('opensuse') || i === 'sles')) return 'suse';
  if (ids.includes('alpine')) return 'alpine';
  return 'unknown';
}

/** The command that installs NSS's certutil on this system (mkcert's wording, per distro). */
export function certutilInstallHint(platform: NodeJS.Platform, root: string): string {
  if (platform === 'darwin') return 'brew install nss';
  switch (distroFamily(root)) {
    case 'debian':
      return 'sudo apt install libnss3-tools';
    case 'fedora':
      return 'sudo dnf install nss-tools';
    case 'arch':
      return 'sudo pacman -S nss';
    case 'suse':
      return 'sudo zypper install mozilla-nss-tools';
    case 'alpine':
      return 'sudo apk add nss-tools';
    default:
      return 'install your distribution\'s NSS tools package ("libnss3-tools" or "nss-tools")';
  }
}

export function javaInstallHint(platform: NodeJS.Platform, root: string): string {
  if (platform === 'darwin') return 'brew install openjdk, or set JAVA_HOME to your JDK';
  if (platform === 'win32') return 'set JAVA_HOME to your JDK folder';
  switch (distroFamily(root)) {
    case 'debian':
      return 'set JAVA_HOME to your JDK, or sudo apt install default-jre-headless';
    case 'fedora':
      return 'set JAVA_HOME to your JDK, or sudo dnf install java-latest-openjdk-headless';
    default:
      return 'set JAVA_HOME to your JDK folder (keytool lives in $JAVA_HOME/bin)';
  }
}
