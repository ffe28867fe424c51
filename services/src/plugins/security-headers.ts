import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Security headers on every response (@fastify/helmet): CSP, X-Frame-Options, X-Content-Type-Options, HSTS,
 * Referrer-Policy, Cross-Origin-*-Policy. The CSP fits the portals as Vite builds them (one module script and
 * one stylesheet from /assets, no inline script) and proves itself in the portals' Chromium tests:
 * - script-src 'self': no inline or injected script runs, the main point of a CSP against XSS;
 * - style-src adds 'unsafe-inline': ECharts writes its tooltips and labels as HTML with style attributes, and
 *   React sets inline styles; style injection cannot run code;
 * - img-src data: and blob:: ECharts' "save as image" and the inline SVG favicon;
 * - connect-src 'self': the portals talk only to this platform's API;
 * - frame-ancestors 'none' (and X-Frame-Options DENY): no clickjacking through frames.
 * No upgrade-insecure-requests: the platform also serves plain HTTP on 127.0.0.1 in development, where it would
 * break every asset; production TLS (a proxy in front) gets HSTS instead. /docs sets its own CSP (swagger-ui's
 * static one, scripts from 'self' only).
 */
export default fp(
  async (fastify: FastifyInstance) => {
    await fastify.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          baseUri: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          fontSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"],
        },
      },
      frameguard: { action: 'deny' },
      strictTransportSecurity: { maxAge: 180 * 24 * 3600, includeSubDomains: true },
      referrerPolicy: { policy: 'no-referrer' },
    });
  },
  { name: 'security-headers' },
);
