import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([CanvasRenderer]);

/**
 * An ECharts instance on the returned element's node, sized with it and disposed with it, showing `option`
 * (replaced, not merged, when it changes). The chart kinds and components an option uses are registered by
 * its caller with `echarts.use`, so each bundle carries only what it draws. Memoise `option`: a new object
 * on every render redraws on every render.
 */
export function useECharts(option: echarts.EChartsCoreOption) {
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
    chart.current?.setOption(option, true);
  }, [option]);

  return el;
}
