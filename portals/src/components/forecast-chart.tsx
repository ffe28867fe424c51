import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { SeriesForecast } from '../api/demand';
import { useECharts } from './use-echarts';

echarts.use([LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent]);

/**
 * History and forecast on one time axis, with the 95% and 80% intervals as
 * shaded bands. A band is drawn as a stack: an invisible line at the lower
 * bound, then the width (upper - lower) filled on top of it.
 */
export function ForecastChart({ data }: { data: SeriesForecast }) {
  const { t } = useTranslation();
  const option = useMemo(() => {
    const dates = [...data.history.map((p) => p.date), ...data.forecast.map((f) => f.date)];
    const pad = (n: number) => new Array<null>(n).fill(null);
    const hist = data.history.length;
    const round = (v: number) => Math.round(v * 10) / 10;
    const band = (lo: number[], hi: number[], name: string, colour: string) => [
      {
        name,
        type: 'line',
        stack: name,
        data: [...pad(hist), ...lo.map(round)],
        lineStyle: { opacity: 0 },
        itemStyle: { color: colour },
        symbol: 'none',
        silent: true,
        tooltip: { show: false },
      },
      {
        name,
        type: 'line',
        stack: name,
        data: [...pad(hist), ...hi.map((h, i) => round(h - (lo[i] ?? 0)))],
        lineStyle: { opacity: 0 },
        areaStyle: { color: colour },
        itemStyle: { color: colour },
        symbol: 'none',
        silent: true,
      },
    ];
    return {
      animation: false,
      grid: { left: 56, right: 16, top: 48, bottom: 40 },
      legend: {
        top: 0,
        data: [t('forecast.history'), t('forecast.forecast'), t('forecast.band95'), t('forecast.band80')],
      },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: dates, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name: t('forecast.units'), min: 0 },
      series: [
        ...band(
          data.forecast.map((f) => f.lo95),
          data.forecast.map((f) => f.hi95),
          t('forecast.band95'),
          'rgba(37, 99, 235, 0.12)',
        ),
        ...band(
          data.forecast.map((f) => f.lo80),
          data.forecast.map((f) => f.hi80),
          t('forecast.band80'),
          'rgba(37, 99, 235, 0.25)',
        ),
        {
          name: t('forecast.history'),
          type: 'line',
          data: [...data.history.map((p) => p.quantity), ...pad(data.forecast.length)],
          symbol: 'none',
          lineStyle: { width: 1.5, color: '#334155' },
          itemStyle: { color: '#334155' },
        },
        {
          name: t('forecast.forecast'),
          type: 'line',
          data: [...pad(hist), ...data.forecast.map((f) => round(f.point))],
          symbol: 'none',
          lineStyle: { width: 2, color: '#2563eb' },
          itemStyle: { color: '#2563eb' },
        },
      ],
    };
  }, [data, t]);
  const el = useECharts(option);

  return <div ref={el} className="chart" style={{ height: 360 }} data-testid="forecast-chart" />;
}
