/** digital-link.js 1.4.3 (Apache-2.0) ships no types: the part of its API this module uses. */
declare module 'digital-link.js' {
  interface DigitalLinkInstance {
    isValid(): boolean;
    getDomain(): string;
    getIdentifier(): Record<string, string>;
    getKeyQualifiers(): Record<string, string>;
    toWebUriString(): string;
  }
  interface DigitalLinkInput {
    domain: string;
    identifier: Record<string, string>;
    keyQualifiers?: Record<string, string>;
    keyQualifiersOrder?: string[];
  }
  const lib: { DigitalLink(input: string | DigitalLinkInput): DigitalLinkInstance };
  export default lib;
}
