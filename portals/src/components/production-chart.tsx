import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { ProductionPoint } from '../api';

// Register only what the chart uses; the full echarts bundle is several times larger.
echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export function ProductionChart({
  series,
  bucket = 'hour',
}: {
  series: ProductionPoint[];
  bucket?: 'hour' | 'minute';
}) {
  const { t, i18n } = useTranslation();
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const sorted = [...series].sort((a, b) => a.hour.localeCompare(b.hour));
    const fmt = new Intl.DateTimeFormat(
      i18n.language,
      bucket === 'hour'
        ? { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }
        : { hour: '2-digit', minute: '2-digit' },
    );
    chart.current?.setOption(
      {
        animation: false,
        grid: { left: 48, right: 16, top: 24, bottom: 40 },
        tooltip: { trigger: 'axis' },
        xAxis: {
          type: 'category',
          data: sorted.map((p) => fmt.format(new Date(p.hour))),
          axisLabel: { hideOverlap: true },
        },
        yAxis: { type: 'value', name: t('financier.units'), minInterval: 1 },
        series: [
          {
            type: 'bar',
            name: t('financier.units'),
            data: sorted.map((p) => p.units),
            itemStyle: { color: '#2563eb', borderRadius: [3, 3, 0, 0] },
            barMaxWidth: 48,
          },
        ],
      },
      true,
    );
  }, [series, bucket, t, i18n.language]);

  return <div ref={el} className="chart" data-testid="production-chart" />;
}
