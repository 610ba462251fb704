export default function HomePage() {
  return (
    <>
      <h1>Custody</h1>
      <p>
        Recover or recommission AXIS cameras for their legitimate owners: identify by serial, prove
        ownership, get the owner&apos;s approval, reset through the supported path, and document the
        handover.
      </p>
      <p>
        <a href="/health">System health</a>
      </p>
    </>
  );
}
