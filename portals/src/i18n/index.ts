import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en';
import { zh } from './zh';

export const Languages = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '中文' },
] as const;
export type LanguageCode = (typeof Languages)[number]['code'];

const STORAGE_KEY = 'c2m.lang';

/** An explicit choice wins; otherwise any Chinese browser language (zh, zh-TW, zh-Hans-CN…) gets zh-CN. */
export function detectLanguage(): LanguageCode {
  const saved = safeStorage()?.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const lang of preferred) {
    const l = lang.toLowerCase();
    if (l.startsWith('zh')) return 'zh-CN';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

export function setLanguage(code: LanguageCode): void {
  safeStorage()?.setItem(STORAGE_KEY, code);
  void i18next.changeLanguage(code);
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

export function initI18n(): typeof i18next {
  const lng = detectLanguage();
  void i18next.use(initReactI18next).init({
    resources: { en: { translation: en }, 'zh-CN': { translation: zh } },
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes already
    returnNull: false,
  });
  const syncLang = (l: string) => {
    document.documentElement.lang = l;
  };
  syncLang(lng);
  i18next.on('languageChanged', syncLang);
  return i18next;
}

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}
