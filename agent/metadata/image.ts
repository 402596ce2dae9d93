import { readFile } from 'node:fs/promises';

/** Written into the image at build time by the Dockerfile. */
export const imageMetadataFile = '/etc/wn-agent/image.json';

export interface ImageMetadata {
  name?: string;
  version?: string;
  revision?: string;
  buildDate?: string;
}

/** The image's own description, or undefined when the agent does not run from the image (development). */
export async function readImageMetadata(file = imageMetadataFile): Promise<ImageMetadata | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const pick = (key: string): string | undefined => (typeof parsed[key] === 'string' ? parsed[key] : undefined);
    return Object.fromEntries(
      Object.entries({ name: pick('name'), version: pick('version'), revision: pick('revision'), buildDate: pick('buildDate') }).filter(
        ([, value]) => value !== undefined,
      ),
    );
  } catch {
    return undefined;
  }
}
