// CLI commands for "wss-studio ca ...".
import type { Command } from './command';

export const commands: Command[] = [];
