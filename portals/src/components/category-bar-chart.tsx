import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { useMemo } from 'react';
import { useECharts } from './use-echarts';

// Register only what the chart uses; the full echarts bundle is several times larger.
echarts.use([BarChart, GridComponent, TooltipComponent]);

/** One bar per label, e.g. units per hour or events per day; `name` labels the value axis and the tooltip. */
export function CategoryBarChart({
  labels,
  values,
  name,
  testId,
}: {
  labels: string[];
  values: number[];
  name: string;
  testId?: string;
}) {
  const option = useMemo(
    () => ({
      animation: false,
      grid: { left: 48, right: 16, top: 24, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name, minInterval: 1 },
      series: [
        {
          type: 'bar',
          name,
          data: values,
          itemStyle: { color: '#2563eb', borderRadius: [3, 3, 0, 0] },
          barMaxWidth: 48,
        },
      ],
    }),
    [labels, values, name],
  );
  const el = useECharts(option);
  return <div ref={el} className="chart" data-testid={testId} />;
}
