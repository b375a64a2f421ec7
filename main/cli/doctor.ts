// CLI commands for "wss-studio doctor ...".
import type { Command } from './command';

export const commands: Command[] = [];
