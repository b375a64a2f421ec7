// The app's version, from package.json (one place to bump). esbuild and Vite inline the one field at build
// time, so nothing reads package.json at run time and the rest of the file is not bundled.
import { version } from '../package.json';

export const VERSION: string = version;
