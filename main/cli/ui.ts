// CLI commands for "wss-studio ui ...".
import type { Command } from './command';

export const commands: Command[] = [];
