import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The channel's batch settings as the network was created with them: network.sh writes the settings file to
 * build/connection.json and renders the configtx.yaml the channel's genesis block came from to
 * build/configtx/configtx.yaml. Read as text (three keys), so the bench needs no YAML parser.
 */
export async function fabricBatchSettings(connectionPath: string): Promise<string> {
  const file = join(dirname(connectionPath), 'configtx', 'configtx.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return `batch settings unknown (no ${file})`;
  }
  const value = (key: string) => new RegExp(`^\\s*${key}:\\s*([^#\\n]+)`, 'm').exec(text)?.[1]?.trim() ?? '?';
  return `BatchTimeout ${value('BatchTimeout')}, MaxMessageCount ${value('MaxMessageCount')}, PreferredMaxBytes ${value('PreferredMaxBytes')} (${file})`;
}
