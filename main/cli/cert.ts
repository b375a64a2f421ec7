// CLI commands for "wss-studio cert ...".
import type { Command } from './command';

export const commands: Command[] = [];
