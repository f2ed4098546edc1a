/**
 * The admin dashboard: the live figures (they move by themselves), the corrections to review,
 * analytics, the prediction log (filters, sorting, pagination) and the accounts (disable or
 * enable one). A plain user who opens it sees
 * the service's "admins only" refusal.
 */
import { useCallback, useEffect, useState } from "react";
import {
  EMPTY_FILTERS,
  OUTCOMES,
  fetchLogs,
  fetchStats,
  fetchVersionStats,
  type LogFilters,
  type LogPage,
  type SortKey,
  type StatsAnswer,
  type VersionStats,
} from "../adminApi";
import { ApiError } from "../api";
import { CorrectionsQueue } from "../components/CorrectionsQueue";
import { ErrorBanner } from "../components/ErrorBanner";
import { LivePanel } from "../components/LivePanel";
import { LogFilterForm } from "../components/LogFilterForm";
import { LogTable } from "../components/LogTable";
import { Pager } from "../components/Pager";
import { StatsPanel } from "../components/StatsPanel";
import { UsersPanel } from "../components/UsersPanel";

interface DashboardPageProps {
  token: string;
  /** The signed-in admin's name. */
  username: string;
  onAuthError(error: ApiError): void;
}

const PAGE_SIZE = 20;

export function DashboardPage({ token, username, onAuthError }: DashboardPageProps) {
  const [filters, setFilters] = useState<LogFilters>(EMPTY_FILTERS);
  const [sort, setSort] = useState<SortKey>("created_at");
  const [descending, setDescending] = useState(true);
  const [page, setPage] = useState(1);
  const [logs, setLogs] = useState<LogPage | null>(null);
  const [stats, setStats] = useState<StatsAnswer | null>(null);
  const [versions, setVersions] = useState<VersionStats[]>([]);
  const [refused, setRefused] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [reload, setReload] = useState(0);
  const [reviewed, setReviewed] = useState(0);

  const fail = useCallback(
    (caught: unknown) => {
      if (caught instanceof ApiError && caught.kind === "unauthorized") onAuthError(caught);
      else if (caught instanceof ApiError && caught.kind === "forbidden") setRefused(caught.message);
      else setError(caught instanceof Error ? caught.message : "Something went wrong. Please try again.");
    },
    [onAuthError],
  );

  useEffect(() => {
    let live = true;
    setLoading(true);
    fetchLogs({ filters, sort, descending, page, pageSize: PAGE_SIZE }, token)
      .then((answer) => {
        if (!live) return;
        setLogs(answer);
        setError(null);
      })
      .catch((caught) => {
        if (live) fail(caught);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [filters, sort, descending, page, token, fail, reload]);

  useEffect(() => {
    let live = true;
    fetchStats(filters, token)
      .then(async (answer) => {
        if (!live) return;
        setStats(answer);
        const names = answer.per_model_version.map((item) => item.key).filter((key): key is string => key !== null);
        const compared = await fetchVersionStats(filters, names, token);
        if (live) setVersions(compared);
      })
      .catch((caught) => {
        if (live) fail(caught);
      });
    return () => {
      live = false;
    };
  }, [filters, token, fail, reload, reviewed]);

  const onReviewed = useCallback(() => setReviewed((count) => count + 1), []);

  if (refused) {
    return (
      <div
        className="mx-auto max-w-lg rounded-xl bg-white p-6 text-center shadow-sm ring-1 ring-slate-200"
        data-testid="admin-refused"
        role="alert"
      >
        <h1 className="mb-2 text-xl font-semibold">Admins only</h1>
        <p className="text-slate-600">The dashboard is for administrators. The service said: “{refused}”</p>
        <a href="#/" className="mt-4 inline-block font-semibold text-sky-700 hover:underline">
          Back to reading numbers
        </a>
      </div>
    );
  }

  const modelVersions = (stats?.per_model_version ?? []).flatMap((item) => (item.key === null ? [] : [item.key]));

  return (
    <div className="space-y-6" data-testid="dashboard">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Dashboard</h1>
        <button
          type="button"
          data-testid="refresh"
          onClick={() => setReload((count) => count + 1)}
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100"
        >
          Refresh
        </button>
      </div>
      <ErrorBanner message={error} onDismiss={() => setError(null)} />
      <LivePanel token={token} onError={fail} />
      <CorrectionsQueue token={token} reload={reload} onError={fail} onReviewed={onReviewed} />
      {stats && <StatsPanel stats={stats} versions={versions} />}
      <section className="space-y-3" aria-label="Prediction log">
        <h2 className="text-lg font-semibold">Prediction log</h2>
        <LogFilterForm
          value={filters}
          outcomes={OUTCOMES}
          modelVersions={modelVersions}
          onApply={(next) => {
            setFilters(next);
            setPage(1);
          }}
        />
        <LogTable
          rows={logs?.items ?? []}
          token={token}
          sort={sort}
          descending={descending}
          onSort={(key) => {
            if (key === sort) setDescending(!descending);
            else {
              setSort(key);
              setDescending(key === "created_at" || key === "confidence" || key === "latency_ms");
            }
            setPage(1);
          }}
        />
        <Pager
          label="Pages of the log"
          page={page}
          pageSize={PAGE_SIZE}
          total={logs?.total ?? 0}
          loading={loading}
          onPage={setPage}
          testIds={{ range: "log-range", previous: "page-previous", next: "page-next" }}
        />
      </section>
      <UsersPanel token={token} self={username} reload={reload} onError={fail} />
    </div>
  );
}
