// CLI commands for "wss-studio trust ...".
import type { Command } from './command';

export const commands: Command[] = [];
