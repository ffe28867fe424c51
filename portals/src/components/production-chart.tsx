import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { ProductionPoint } from '../api';
import { CategoryBarChart } from './category-bar-chart';

export function ProductionChart({
  series,
  bucket = 'hour',
}: {
  series: ProductionPoint[];
  bucket?: 'hour' | 'minute';
}) {
  const { t, i18n } = useTranslation();
  const { labels, values } = useMemo(() => {
    const sorted = [...series].sort((a, b) => a.hour.localeCompare(b.hour));
    const fmt = new Intl.DateTimeFormat(
      i18n.language,
      bucket === 'hour'
        ? { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }
        : { hour: '2-digit', minute: '2-digit' },
    );
    return { labels: sorted.map((p) => fmt.format(new Date(p.hour))), values: sorted.map((p) => p.units) };
  }, [series, bucket, i18n.language]);
  return <CategoryBarChart labels={labels} values={values} name={t('financier.units')} testId="production-chart" />;
}
