import { normaliseGs1Uri } from '@c2m/shared';

/**
 * The one form every stored URI takes (EPCs, classes, read points, business locations): a GS1 key as its
 * canonical Digital Link on https://id.gs1.org (EPC URNs and other resolvers converted, by the same normaliser
 * as the event hash), anything else as given. Capture indexes with it and the query matches with it, so a
 * query in URN or Digital Link form finds the same rows, and a class pattern is a prefix of its instances.
 */
export function canonicalUri(uri: string): string {
  return normaliseGs1Uri(uri) ?? uri;
}
